/**
 * A long random fuzz run of the channel: `npm run fuzz -- --seconds 600
 * [--seed N]`. Each case is SMTP-shaped or arbitrary bytes, fed whole and at
 * random splits under a random configuration; the run fails on an exception,
 * a malformed reply line, or a split that changes the outcome, and prints the
 * seed and the input needed to replay it. CI runs it for a few seconds
 * (test/fuzz/fuzz.test.ts).
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRule } from '../../src/rules/parse.js';
import { feed } from '../helpers/byte-script.js';
import { anyBytes, cut, REPLY_LINE, smtpBytes } from './smtp-input.js';

const config = fc.record({
  smtputf8: fc.boolean(),
  dataSizeLimit: fc.constantFrom(0, 16, 100, 33_554_432),
  bareLf: fc.constantFrom('accept' as const, 'reject' as const),
  maxRecipients: fc.constantFrom(0, 1, 3),
  maxMessagesPerConnection: fc.constantFrom(0, 1, 2),
  starttls: fc.boolean(),
  requireTls: fc.boolean(),
  auth: fc.option(
    fc.record({
      insecure: fc.boolean(),
      required: fc.boolean(),
      users: fc.option(fc.constant(new Map([['a', 'b']])), { nil: null }),
    }),
    { nil: null },
  ),
  chunking: fc.boolean(),
  binaryMime: fc.boolean(),
  enhancedStatusCodes: fc.boolean(),
  dsn: fc.boolean(),
  lmtp: fc.boolean(),
  // Scripted replies (src/rules/): parsed once, given to a fresh engine per run (it counts events).
  rules: fc.constantFrom(
    [],
    ['RCPT~b=550 5.1.1 No such user', 'EOD#2=451 4.3.0 Later'],
    ['MAIL#2=421 Bye!close', '*=delay:5ms', 'CONNECT=220 fake ready'],
    ['DATA=drop'],
    ['EOD?50%=250 Queued', 'RCPT#*2=452 full', 'AUTH=drop', 'BDAT#2=554!close'],
  ),
});

function outcome(chunks: Buffer[], { rules, ...cfg }: { readonly rules: readonly string[] }) {
  const o = feed(chunks, () => ({
    ...cfg,
    ...(rules.length > 0 ? { replyRule: new RuleEngine(rules.map(parseRule), 7).hook } : {}),
  }));
  return {
    lines: o.lines,
    closed: o.closed,
    faults: o.faults,
    messages: o.messages.map((m) => ({ ...m, data: m.data.toString('latin1') })),
  };
}

export interface FuzzResult {
  readonly cases: number;
  readonly failure: string | undefined;
}

/** Fuzzes for `seconds`; resolves with the number of cases and the first failure, if any. */
export function fuzzChannel(seconds: number, seed: number): FuzzResult {
  let cases = 0;
  const result = fc.check(
    fc.property(fc.oneof(smtpBytes, anyBytes), fc.array(fc.nat(), { maxLength: 16 }), config, (bytes, offsets, cfg) => {
      cases++;
      const whole = outcome([bytes], cfg);
      for (const line of whole.lines)
        if (!REPLY_LINE.test(line)) throw new Error(`malformed reply line ${JSON.stringify(line)}`);
      if (!isDeepStrictEqual(outcome(cut(bytes, offsets), cfg), whole)) throw new Error('a split changed the outcome');
    }),
    { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
  );
  return { cases, failure: result.failed ? fc.defaultReportMessage(result) : undefined };
}
