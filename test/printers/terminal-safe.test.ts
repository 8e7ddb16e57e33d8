import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonSafe, terminalSafe, terminalSafeBytes } from '../../src/printers/terminal-safe.js';

/** The escaping as a plain per-character rule, to compare the byte loop with. */
function reference(text: string, keepLineFeeds: boolean): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    const control =
      (code < 0x20 && code !== 0x09 && !(keepLineFeeds && code === 0x0a)) || (code >= 0x7f && code <= 0x9f);
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : bidi ? `\\u${code.toString(16)}` : c;
  }
  return out;
}

const text = fc.string({
  unit: fc
    .oneof(fc.integer({ min: 0, max: 0xa0 }), fc.integer({ min: 0x2020, max: 0x2070 }), fc.constant(0x65e5))
    .map((n) => String.fromCharCode(n)),
  maxLength: 30,
});

describe('terminal-safe escaping', () => {
  it('escapes C0 (but tab), DEL, C1 and the bidi controls, and nothing else', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, keep) => {
        assert.equal(terminalSafe(t, keep), reference(t, keep));
      }),
      { numRuns: 20_000, seed: 5 },
    );
  });

  it('shows the Trojan Source overrides and isolates for what they are', () => {
    assert.equal(terminalSafe('admin\u202e\u2066txt.exe\u2069'), 'admin\\u202e\\u2066txt.exe\\u2069');
    assert.equal(
      terminalSafe('OSC 52: \x1b]52;c;cHduZWQ=\x07 CSI: \x9b2J'),
      'OSC 52: \\x1b]52;c;cHduZWQ=\\x07 CSI: \\x9b2J',
    );
  });

  it('gives back the very buffer when nothing needs escaping', () => {
    const clean = Buffer.from('plain text, é, 日本\n');
    assert.equal(terminalSafeBytes(clean, true), clean);
  });

  it('escapes 8 MiB of ESC bytes in one linear pass, with every byte accounted for', { timeout: 20_000 }, () => {
    const out = terminalSafeBytes(Buffer.alloc(8 << 20, 0x1b));
    assert.equal(out.length, 4 * (8 << 20));
    assert.equal(out.subarray(0, 8).toString(), '\\x1b\\x1b');
  });
});

describe('JSON line escaping', () => {
  it('writes DEL, C1 and U+2028/U+2029 as \\u escapes, so the line holds no control character', () => {
    assert.equal(jsonSafe(JSON.stringify('a\x7f\x85\u2028\u2029\u202e')), '"a\\u007f\\u0085\\u2028\\u2029\u202e"');
    fc.assert(
      fc.property(text, (t) => {
        const line = jsonSafe(JSON.stringify(t));
        assert.equal(JSON.parse(line), t);
        assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      }),
      { numRuns: 5000, seed: 6 },
    );
  });
});

describe('the four-bytes-at-a-time scan', () => {
  it('finds a byte to escape at any position, in a buffer at any offset and of any length', () => {
    for (const special of [0x1b, 0x7f, 0x0d, 0x00, 0x1f])
      for (let offset = 0; offset < 8; offset++)
        for (let length = 0; length < 12; length++)
          for (let at = 0; at < length; at++) {
            const backing = Buffer.alloc(offset + length, 0x61);
            backing[offset + at] = special;
            const src = backing.subarray(offset);
            const expected = `${'a'.repeat(at)}\\x${special.toString(16).padStart(2, '0')}${'a'.repeat(length - at - 1)}`;
            assert.equal(
              terminalSafeBytes(src).toString(),
              expected,
              `${special} at ${at} of ${length}, offset ${offset}`,
            );
          }
  });

  it('looks into words with a byte above 0x7f, and keeps what needs nothing', () => {
    const text = 'résumé \u202e and \u0085 and plain ascii text of some length';
    for (let offset = 0; offset < 4; offset++) {
      const backing = Buffer.concat([Buffer.alloc(offset), Buffer.from(text)]);
      assert.equal(terminalSafeBytes(backing.subarray(offset)).toString(), terminalSafe(text));
    }
    const clean = Buffer.from('clean text\tand tabs, long enough for several words');
    assert.equal(terminalSafeBytes(clean), clean, 'the same buffer, not a copy');
  });
});
