import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { END_MESSAGE, MESSAGE_FOLLOWS, printRaw, styleHeaderLine } from '../../src/printers/raw.js';
import { PLAIN } from '../../src/printers/style.js';
import { MARKED } from '../helpers/marked-style.js';
import { makeMessage } from '../helpers/message.js';

describe('the raw printer', () => {
  it('prints DebuggingServer framing around the whole message with X-Peer at the first blank line', () => {
    const text = printRaw(makeMessage('Subject: hi\n\nbody\n'));
    assert.equal(text, [MESSAGE_FOLLOWS, 'Subject: hi', 'X-Peer: 127.0.0.1', '', 'body', END_MESSAGE, ''].join('\n'));
  });

  it('is plain without a style, so the default output is unchanged', () => {
    const m = makeMessage('Subject: hi\n\nbody\n');
    assert.equal(printRaw(m, { style: PLAIN }), printRaw(m));
  });

  it('styles the framing, header names and the subject value, and nothing in the body', () => {
    const text = printRaw(makeMessage('Subject: hi\nX-Other: v\n folded: not a name\n\nBody: not a header\n'), {
      style: MARKED,
    });
    assert.deepEqual(text.split('\n'), [
      `<F>${MESSAGE_FOLLOWS}</F>`,
      '<H>Subject</H>:<S> hi</S>',
      '<H>X-Other</H>: v',
      ' folded: not a name',
      '<H>X-Peer</H>: 127.0.0.1',
      '',
      'Body: not a header',
      `<F>${END_MESSAGE}</F>`,
      '',
    ]);
  });

  it('shows control characters from the message visibly, before any style is applied', () => {
    const text = printRaw(makeMessage('Subject: \x1b[31mred\x07\n\n\x1b]0;title\x07 \x9b\x7f\n'), { style: MARKED });
    assert.ok(text.includes('<S> \\x1b[31mred\\x07</S>'));
    assert.ok(text.includes('\\x1b]0;title\\x07 \\x9b\\x7f'));
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });
});

describe('styleHeaderLine', () => {
  it('leaves lines without a name alone', () => {
    assert.equal(styleHeaderLine(':no name', MARKED), ':no name');
    assert.equal(styleHeaderLine('\tcontinued: x', MARKED), '\tcontinued: x');
    assert.equal(styleHeaderLine('no colon', MARKED), 'no colon');
  });
});
