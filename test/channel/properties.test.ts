/**
 * Properties of the channel over generated input (fast-check): whatever the
 * bytes and however they are split into chunks, it never throws, answers
 * only well-formed reply lines, and gives the same replies and messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { feed } from '../helpers/byte-script.js';
import { anyBytes, cut, REPLY_LINE, smtpBytes } from '../fuzz/smtp-input.js';

const RUNS = 1000;
const configs = [
  {},
  { smtputf8: true, dataSizeLimit: 64 },
  { bareLf: 'reject' as const, maxRecipients: 2, maxMessagesPerConnection: 1 },
  {
    starttls: true,
    auth: { insecure: true },
    chunking: true,
    binaryMime: true,
    enhancedStatusCodes: true,
    dsn: true,
    dataSizeLimit: 64,
  },
  {
    lmtp: true,
    chunking: true,
    requireTls: true,
    auth: { insecure: true, required: true, users: new Map([['u', 'p']]) },
  },
];

function outcome(chunks: Buffer[], config: object) {
  const o = feed(chunks, config);
  return {
    lines: o.lines,
    closed: o.closed,
    messages: o.messages.map((m) => ({ ...m, data: m.data.toString('latin1') })),
  };
}

describe('channel properties', () => {
  for (const [name, input] of [
    ['SMTP-shaped input', smtpBytes],
    ['arbitrary bytes', anyBytes],
  ] as const) {
    for (const config of configs) {
      it(`gives the same well-formed replies for ${name} however it is split (${JSON.stringify(config)})`, () => {
        fc.assert(
          fc.property(input, fc.array(fc.nat(), { maxLength: 12 }), (bytes, offsets) => {
            const whole = outcome([bytes], config);
            for (const line of whole.lines) assert.match(line, REPLY_LINE);
            assert.deepEqual(outcome(cut(bytes, offsets), config), whole);
          }),
          { numRuns: RUNS, seed: 20261123 },
        );
      });
    }
  }

  it('gives the same result one byte at a time', () => {
    fc.assert(
      fc.property(smtpBytes, (bytes) => {
        assert.deepEqual(
          outcome(
            [...bytes].map((b) => Buffer.from([b])),
            {},
          ),
          outcome([bytes], {}),
        );
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
