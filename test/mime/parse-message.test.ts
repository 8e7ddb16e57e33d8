import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../../src/mime/parse-message.js';
import { CASES } from '../fixtures/cases.js';
import { loadFixture } from '../helpers/fixtures.js';
import { makeMessage } from '../helpers/message.js';
import { MessageParseError } from '../../src/errors.js';

describe('parseMessage on the fixtures', () => {
  for (const c of CASES) {
    it(`decodes ${c.file}: subject, addresses, text, HTML and hashed attachments`, async () => {
      const data = await loadFixture(c.file);
      const p = await parseMessage(makeMessage(data, { rcptTos: c.envelope.to }));
      assert.equal(p.subject, c.subject);
      assert.deepEqual(p.from, [c.from]);
      assert.deepEqual(
        p.to.map((a) => a.address),
        c.to,
      );
      assert.deepEqual(
        p.cc.map((a) => a.address),
        c.cc ?? [],
      );
      assert.deepEqual(
        p.bcc.map((a) => a.address),
        c.bcc,
      );
      assert.ok(p.text?.includes(c.text), `text ${JSON.stringify(p.text)} lacks ${JSON.stringify(c.text)}`);
      assert.equal(p.html !== null, c.html);
      assert.deepEqual(
        p.attachments.map(({ filename, contentType, size, sha256 }) => ({ filename, contentType, size, sha256 })),
        c.attachments,
      );
    });
  }
});

describe('parseMessage', () => {
  it('keeps every header in order, duplicates included, unfolded and not decoded', async () => {
    const p = await parseMessage(
      makeMessage('Received: one\nSubject: =?utf-8?q?a?=\n b\nReceived: two\nX-Empty:\n\nbody\n'),
    );
    assert.deepEqual(p.headers, [
      { name: 'Received', value: 'one' },
      { name: 'Subject', value: '=?utf-8?q?a?= b' },
      { name: 'Received', value: 'two' },
      { name: 'X-Empty', value: '' },
    ]);
  });

  it('reads header bytes as UTF-8', async () => {
    const p = await parseMessage(makeMessage('X-Name: Jöran\n\nbody\n'));
    assert.deepEqual(p.headers, [{ name: 'X-Name', value: 'Jöran' }]);
  });

  it('gives the date as ISO 8601, and null for a date it cannot read (not the current time)', async () => {
    const good = await parseMessage(makeMessage('Date: Mon, 01 Jan 2024 10:00:00 +0100\n\nx\n'));
    assert.equal(good.date, '2024-01-01T09:00:00.000Z');
    const bad = await parseMessage(makeMessage('Date: the day after tomorrow\n\nx\n'));
    assert.equal(bad.date, null);
    const none = await parseMessage(makeMessage('Subject: s\n\nx\n'));
    assert.equal(none.date, null);
  });

  it('lists the Bcc header and the envelope recipients named in no header as Bcc, once each', async () => {
    const m = makeMessage('To: a@example.com\nCc: B@example.com\nBcc: c@example.com\n\nx\n', {
      rcptTos: ['a@example.com', 'b@example.com', 'C@example.com', 'd@example.com', 'd@example.com'],
    });
    const p = await parseMessage(m);
    assert.deepEqual(p.bcc, [
      { name: '', address: 'c@example.com' },
      { name: '', address: 'd@example.com' },
    ]);
  });

  it('flattens address groups into their members', async () => {
    const p = await parseMessage(makeMessage('To: team: a@example.com, "B" <b@example.com>;, c@example.com\n\nx\n'));
    assert.deepEqual(
      p.to.map((a) => a.address),
      ['a@example.com', 'b@example.com', 'c@example.com'],
    );
  });

  it('keeps no attachment bytes, only their size and SHA-256', async () => {
    const p = await parseMessage(makeMessage(await loadFixture('nested.eml')));
    for (const a of p.attachments) {
      assert.deepEqual(Object.keys(a).sort(), [
        'contentId',
        'contentType',
        'disposition',
        'filename',
        'sha256',
        'size',
      ]);
    }
    assert.equal(p.attachments[0]?.contentId, '<chart@example.com>');
    assert.equal(p.attachments[0]?.disposition, 'inline');
  });

  it('parses an empty message and one without a body', async () => {
    assert.equal((await parseMessage(makeMessage(''))).subject, null);
    assert.equal((await parseMessage(makeMessage('Subject: s\n'))).subject, 's');
  });

  it('rejects a 10 MiB single-line header with MessageParseError', async () => {
    const huge = makeMessage(`Subject: ${'x'.repeat(10 << 20)}\n\nbody\n`);
    await assert.rejects(
      parseMessage(huge),
      (err: unknown) => err instanceof MessageParseError && err.code === 'ERR_SMTPD_PARSE',
    );
  });
});
