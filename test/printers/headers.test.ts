import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printHeaders } from '../../src/printers/headers.js';
import { END_MESSAGE, MESSAGE_FOLLOWS } from '../../src/printers/raw.js';
import { MARKED } from '../helpers/marked-style.js';
import { makeMessage } from '../helpers/message.js';

describe('the headers printer', () => {
  it('prints the framing, the MAIL options and the header block with X-Peer, and no body', () => {
    const m = makeMessage('From: a@example.com\nSubject: hi\n\nsecret body\n', { mailOptions: ['BODY=8BITMIME'] });
    assert.equal(
      printHeaders(m),
      [
        MESSAGE_FOLLOWS,
        "mail options: ['BODY=8BITMIME']",
        'From: a@example.com',
        'Subject: hi',
        'X-Peer: 127.0.0.1',
        END_MESSAGE,
        '',
      ].join('\n'),
    );
  });

  it('prints a message without a blank line whole, as it is all header', () => {
    assert.equal(
      printHeaders(makeMessage('Subject: only\n')),
      [MESSAGE_FOLLOWS, 'Subject: only', END_MESSAGE, ''].join('\n'),
    );
  });

  it('styles like raw', () => {
    assert.ok(printHeaders(makeMessage('Subject: hi\n\nb\n'), { style: MARKED }).includes('<H>Subject</H>:<S> hi</S>'));
  });
});
