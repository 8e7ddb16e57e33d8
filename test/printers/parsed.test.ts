import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { printJson } from '../../src/printers/json.js';
import { parseMessage, type ParsedMessage } from '../../src/mime/parse-message.js';
import { formatAddress, humanSize, printParsed } from '../../src/printers/parsed.js';
import { END_MESSAGE, MESSAGE_FOLLOWS, printRaw } from '../../src/printers/raw.js';
import { MARKED } from '../helpers/marked-style.js';
import { validate } from '../helpers/json-schema.js';
import { makeMessage } from '../helpers/message.js';

const PARSED: ParsedMessage = {
  headers: [{ name: 'Date', value: 'Mon, 01 Jan 2024 10:00:00 +0100' }],
  messageId: '<id@example.com>',
  subject: 'Grüße',
  from: [{ name: 'Alice', address: 'alice@example.com' }],
  to: [{ name: '', address: 'bob@example.com' }],
  cc: [],
  bcc: [{ name: '', address: 'hidden@example.com' }],
  date: '2024-01-01T09:00:00.000Z',
  text: 'Hello\nworld\n',
  html: '<p>é</p>',
  attachments: [
    {
      filename: 'a.pdf',
      contentType: 'application/pdf',
      size: 3,
      sha256: 'ab'.repeat(32),
      disposition: 'attachment',
      contentId: null,
    },
  ],
};

describe('the parsed printer', () => {
  it('prints the decoded fields, the text, the HTML size and the attachments in the framing', () => {
    const text = printParsed(makeMessage('Subject: x\n\ny\n'), { parsed: PARSED });
    assert.equal(
      text,
      [
        MESSAGE_FOLLOWS,
        'From: Alice <alice@example.com>',
        'To: bob@example.com',
        'Bcc: hidden@example.com',
        'Subject: Grüße',
        'Date: Mon, 01 Jan 2024 10:00:00 +0100',
        'Message-ID: <id@example.com>',
        'X-Peer: 127.0.0.1',
        '',
        'Hello',
        'world',
        '',
        'HTML body: 9 bytes (--http previews it; -f json has it whole)',
        'Attachments: 1',
        `  1. a.pdf  application/pdf  3 bytes  sha256:${'ab'.repeat(32)}`,
        END_MESSAGE,
        '',
      ].join('\n'),
    );
  });

  it('says so when there is no text, no HTML and no attachment', () => {
    const text = printParsed(makeMessage('x\n'), { parsed: { ...PARSED, text: null, html: null, attachments: [] } });
    assert.ok(text.includes('\n(no text body)\n\nHTML body: none\nAttachments: none\n'));
  });

  it('shows the message raw when it could not be parsed', () => {
    const m = makeMessage('Subject: x\n\ny\n');
    assert.equal(printParsed(m, { parseError: 'broken' }), printRaw(m));
  });

  it('escapes control characters from every decoded field, then styles only its own text', () => {
    const evil = '\x1b]0;owned\x07\x9b2J';
    const parsed: ParsedMessage = {
      ...PARSED,
      subject: evil,
      from: [{ name: evil, address: 'a@example.com' }],
      bcc: [{ name: '', address: `${evil}@example.com` }],
      text: `${evil}\r\nline\rwith CR\n`,
      attachments: [{ ...PARSED.attachments[0]!, filename: evil, contentType: evil }],
    };
    const text = printParsed(makeMessage('x\n', { mailOptions: [evil] }), { parsed, style: MARKED });
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    assert.ok(text.includes('<H>Subject</H>:<S> \\x1b]0;owned\\x07\\x9b2J</S>'));
    assert.ok(text.includes('line\\x0dwith CR'));
  });
});

describe('formatAddress', () => {
  it('quotes a display name only when it needs quoting', () => {
    assert.equal(formatAddress({ name: '', address: 'a@b' }), 'a@b');
    assert.equal(formatAddress({ name: 'Jöran Müller', address: 'a@b' }), 'Jöran Müller <a@b>');
    assert.equal(formatAddress({ name: 'Doe, "J"', address: 'a@b' }), '"Doe, \\"J\\"" <a@b>');
    assert.equal(formatAddress({ name: 'Only a name', address: '' }), 'Only a name');
  });
});

describe('the parsed printer on large and odd mail', () => {
  it('prints a text body of 200,000 lines, each escaped, as the lines were', async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => (i === 7 ? 'bell\x07' : `line ${i}`));
    const message = makeMessage(`Subject: long\n\n${lines.join('\n')}\n`);
    const out = printParsed(message, { parsed: await parseMessage(message) });
    assert.ok(out.includes('\nline 0\nline 1\n'));
    assert.ok(out.includes('\nbell\\x07\nline 8\n'));
    assert.ok(out.includes('\nline 199999\n\nHTML body: none'));
  });

  it('lists an attachment with an empty Content-Type as text/plain (RFC 2045 5.2), in parsed and in JSON', async () => {
    const message = makeMessage(
      'Subject: a\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type:\nContent-Disposition: attachment; filename=x.bin\n\nxyz\n--b--\n',
    );
    const parsed = await parseMessage(message);
    assert.equal(parsed.attachments[0]!.contentType, 'text/plain');
    assert.match(printParsed(message, { parsed }), /1\. x\.bin {2}text\/plain {2}/);
    assert.deepEqual(validate(JSON_SCHEMA, JSON.parse(printJson(message, { parsed }))), []);
  });
});

describe('the parsed printer, for people', () => {
  it('shows Reply-To and List-Unsubscribe, sizes in human units, and inline parts apart', () => {
    const parsed: ParsedMessage = {
      ...PARSED,
      headers: [
        ...PARSED.headers,
        { name: 'Reply-To', value: 'support@example.com' },
        { name: 'List-Unsubscribe', value: '<https://example.com/u/1>, <mailto:u@example.com>' },
      ],
      html: 'x'.repeat(10 * 1024 * 1024),
      attachments: [
        {
          filename: 'logo.png',
          contentType: 'image/png',
          size: 2048,
          sha256: 'cd'.repeat(32),
          disposition: 'inline',
          contentId: '<logo@x>',
        },
        { ...PARSED.attachments[0]!, size: 3 * 1024 * 1024 },
      ],
    };
    const text = printParsed(makeMessage('Subject: x\n\ny\n'), { parsed });
    assert.ok(text.includes('\nReply-To: support@example.com\n'), text);
    assert.ok(text.includes('\nList-Unsubscribe: <https://example.com/u/1>, <mailto:u@example.com>\n'));
    assert.ok(text.includes('\nHTML body: 10.0 MiB (--http previews it; -f json has it whole)\n'));
    assert.ok(
      text.includes(`\nInline parts: 1\n  1. logo.png  image/png  2.0 KiB  cid:logo@x  sha256:${'cd'.repeat(32)}\n`),
      text,
    );
    assert.ok(
      text.includes(`\nAttachments: 1\n  2. a.pdf  application/pdf  3.0 MiB  sha256:${'ab'.repeat(32)}\n`),
      text,
    );
  });

  it('writes sizes as people read them', () => {
    assert.deepEqual([0, 1, 1023, 1024, 1536, 10 * 2 ** 20, 3 * 2 ** 30].map(humanSize), [
      '0 bytes',
      '1 byte',
      '1023 bytes',
      '1.0 KiB',
      '1.5 KiB',
      '10.0 MiB',
      '3.0 GiB',
    ]);
  });
});
