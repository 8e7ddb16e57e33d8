import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { printJson, toJsonRecord } from '../../src/printers/json.js';
import { parseMessage } from '../../src/mime/parse-message.js';
import { loadFixture } from '../helpers/fixtures.js';
import { validate } from '../helpers/json-schema.js';
import { makeMessage } from '../helpers/message.js';

describe('the json printer', () => {
  it('prints one line that validates against the schema', async () => {
    const m = makeMessage(await loadFixture('nested.eml'), { mailOptions: ['BODY=8BITMIME'] });
    const line = printJson(m, { parsed: await parseMessage(m), savedAs: 'Maildir/new/x' });
    assert.equal(line.indexOf('\n'), line.length - 1);
    const record = JSON.parse(line) as unknown;
    assert.deepEqual(validate(JSON_SCHEMA, record), []);
    assert.equal((record as { savedAs: string }).savedAs, 'Maildir/new/x');
  });

  it('carries the envelope, the size and the receive time', () => {
    const m = makeMessage('Subject: s\n\nbody\n', {
      rcptTos: ['a@x', 'b@x'],
      mailOptions: ['SIZE=10'],
      rcptOptions: ['NOTIFY=NEVER'],
    });
    const r = toJsonRecord(m);
    assert.equal(r.id, '1234.1');
    assert.equal(r.receivedAt, '2024-01-01T12:00:00.000Z');
    assert.deepEqual(r.peer, { address: '127.0.0.1', port: 40000 });
    assert.equal(r.helo, 'client.test');
    assert.equal(r.mailFrom, 'sender@example.com');
    assert.deepEqual(r.rcptTo, ['a@x', 'b@x']);
    assert.deepEqual(r.mailOptions, ['SIZE=10']);
    assert.deepEqual(r.rcptOptions, ['NOTIFY=NEVER']);
    assert.equal(r.size, m.data.length);
  });

  it('adds the raw message as base64 with --json-raw, and only then when parsed', async () => {
    const m = makeMessage(Buffer.from('Subject: \xff\r\n\r\n\x00\x80\r\n', 'latin1'));
    const parsed = await parseMessage(m);
    assert.equal(toJsonRecord(m, { parsed }).raw, undefined);
    assert.deepEqual(Buffer.from(toJsonRecord(m, { parsed, includeRaw: true }).raw!, 'base64'), m.data);
  });

  it('names the parse error and always includes the raw message when parsing failed', () => {
    const m = makeMessage('Subject: s\n\nbody\n');
    const r = toJsonRecord(m, { parseError: 'Max header size for a MIME node exceeded' });
    assert.equal(r.parseError, 'Max header size for a MIME node exceeded');
    assert.equal(r.subject, null);
    assert.deepEqual(r.attachments, []);
    assert.deepEqual(Buffer.from(r.raw!, 'base64'), m.data);
    assert.deepEqual(validate(JSON_SCHEMA, JSON.parse(printJson(m, { parseError: 'x' }))), []);
  });

  it('escapes every control character, C1, DEL, U+2028 and U+2029 included, and means the same', async () => {
    const m = makeMessage('Subject: \x1b[31m\x7f\u009b\u2028\u2029\n\nx\n', { helo: '\x1b]0;t\x07' });
    const line = printJson(m, { parsed: await parseMessage(m) });
    assert.doesNotMatch(line.slice(0, -1), /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    const r = JSON.parse(line) as { subject: string; helo: string };
    assert.equal(r.subject, '\x1b[31m\x7f\u009b\u2028\u2029');
    assert.equal(r.helo, '\x1b]0;t\x07');
  });
});

describe('the JSON schema validator used by the tests', () => {
  it('finds missing, unexpected and mistyped fields, so a passing check means something', () => {
    const r = toJsonRecord(makeMessage('x\n'), { parseError: 'x' }) as unknown as Record<string, unknown>;
    const { id: _id, ...missing } = r;
    assert.match(validate(JSON_SCHEMA, missing).join('\n'), /missing 'id'/);
    assert.match(validate(JSON_SCHEMA, { ...r, extra: 1 }).join('\n'), /unexpected 'extra'/);
    assert.match(validate(JSON_SCHEMA, { ...r, size: '1' }).join('\n'), /\$\.size: expected integer/);
    assert.match(validate(JSON_SCHEMA, { ...r, receivedAt: 'yesterday' }).join('\n'), /not a date-time/);
    assert.match(validate(JSON_SCHEMA, { ...r, schemaVersion: 2 }).join('\n'), /schemaVersion: expected 1/);
  });
});
