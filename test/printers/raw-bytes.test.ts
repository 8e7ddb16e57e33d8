import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { frameBytes, printRawBytes } from '../../src/printers/raw-bytes.js';
import { frame, printRaw } from '../../src/printers/raw.js';
import { makeMessage } from '../helpers/message.js';

/** Message bytes rich in what the two paths must agree on: every kind of line break, UTF-8, controls. */
const messageBytes = fc
  .array(
    fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom('Subject: x', 'From: a@b', '', 'body', 'é', '日本', '\r', '\n', '\r\n', '\r\n', '\t', '.', 'x'.repeat(50)) },
      { weight: 1, arbitrary: fc.constantFrom('\x1b', '\x85', '\x00') },
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

describe('raw printing on bytes', () => {
  it('gives exactly the string printer\'s output whenever it applies', () => {
    let applied = 0;
    fc.assert(
      fc.property(messageBytes, fc.boolean(), (data, withOptions) => {
        const m = makeMessage(data, { mailOptions: withOptions ? ['BODY=8BITMIME'] : [] });
        const bytes = frameBytes(m, undefined, 0);
        if (bytes === undefined) return;
        applied++;
        assert.deepEqual(bytes.toString('utf8'), frame(m, false));
      }),
      { numRuns: 3000, seed: 99 },
    );
    assert.ok(applied > 150, `the byte path applied only ${applied} times`);
  });

  it('applies to a large clean body and leaves controls and invalid UTF-8 to the string path', () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'QUJD'.repeat(19)}\r\n`.repeat(1) + `${'QUJD'.repeat(19)}\r\n`.repeat(2000));
    const m = makeMessage(big);
    const bytes = printRawBytes(m);
    assert.ok(bytes);
    assert.equal(bytes.toString(), printRaw(m));
    assert.equal(printRawBytes(makeMessage(Buffer.concat([big, Buffer.from('\x1b[2J\r\n')]))), undefined);
    assert.equal(printRawBytes(makeMessage(Buffer.concat([big, Buffer.from([0xff, 0x0d, 0x0a])]))), undefined);
    assert.equal(printRawBytes(makeMessage(Buffer.from('Subject: small\r\n\r\nbody\r\n'))), undefined);
  });
});
