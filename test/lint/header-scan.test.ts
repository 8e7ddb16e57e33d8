/** The lint's light scans: header blocks over raw bytes, Content-Type values, From mailbox lists. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerValue, MAX_HEADER_BLOCK, scanHeaders } from '../../src/lint/header-scan.js';
import { mailboxAddresses } from '../../src/lint/mailbox.js';
import { parseContentType } from '../../src/lint/mime-parts.js';

describe('scanHeaders', () => {
  it('finds each field, unfolds values, and the start of the body', () => {
    const data = Buffer.from('Subject: one\r\n two\r\nX-A:b\r\n\r\nbody: no\r\n');
    const block = scanHeaders(data);
    assert.deepEqual(
      block.headers.map((h) => [h.name, h.key, headerValue(data, h)]),
      [
        ['Subject', 'subject', 'one two'],
        ['X-A', 'x-a', 'b'],
      ],
    );
    assert.equal(data.subarray(block.bodyStart).toString(), 'body: no\r\n');
  });

  it('reads bare LF line endings, and a message that is all header', () => {
    const data = Buffer.from('A: 1\nB: 2');
    const block = scanHeaders(data);
    assert.deepEqual(
      block.headers.map((h) => headerValue(data, h)),
      ['1', '2'],
    );
    assert.equal(block.bodyStart, data.length);
  });

  it('skips a line without a colon', () => {
    const data = Buffer.from('junk line\r\nA: 1\r\n\r\n');
    assert.deepEqual(
      scanHeaders(data).headers.map((h) => h.name),
      ['A'],
    );
  });

  it('stops after MAX_HEADER_BLOCK bytes', () => {
    const data = Buffer.concat([
      Buffer.from(`X-Big: ${'x'.repeat(MAX_HEADER_BLOCK)}\r\n`),
      Buffer.from('From: late@example.com\r\n\r\n'),
    ]);
    assert.deepEqual(
      scanHeaders(data).headers.map((h) => h.name),
      ['X-Big'],
    );
  });
});

describe('parseContentType', () => {
  it('reads the type, charset and boundary, quoted or not, and RFC 2231 charsets', () => {
    assert.deepEqual(parseContentType('Text/Plain; charset="UTF-8"; format=flowed'), {
      mime: 'text/plain',
      charset: 'UTF-8',
      boundary: null,
    });
    assert.deepEqual(parseContentType('multipart/mixed;\tboundary=abc'), {
      mime: 'multipart/mixed',
      charset: null,
      boundary: 'abc',
    });
    assert.equal(parseContentType("text/plain; charset*=utf-8''").charset, "utf-8''");
    assert.equal(parseContentType('text/html').charset, null);
  });
});

describe('mailboxAddresses', () => {
  it('returns the lower-cased addresses of a mailbox list', () => {
    assert.deepEqual(mailboxAddresses('Alice <A@Example.com>, bob@example.com (Bob)'), [
      'a@example.com',
      'bob@example.com',
    ]);
    assert.deepEqual(mailboxAddresses('"Doe, John" <j@example.com>'), ['j@example.com']);
  });

  it('returns null for what is not one', () => {
    for (const value of ['', 'Alice', '<a@b', 'a@b, ', '(unclosed a@b', 'a b@example.com'])
      assert.equal(mailboxAddresses(value), null, value);
  });
});
