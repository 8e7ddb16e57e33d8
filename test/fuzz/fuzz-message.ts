/**
 * The message fuzz: mail text built to provoke super-linear work (long runs
 * of one character class ending in a stray one, deep nesting, many lines)
 * goes through everything that reads a message's text: the lint, every
 * printer, the parse (in the render worker), the Maildir's copy. Each
 * message has a time budget; one that takes longer fails the run, so a backtracking pattern or a
 * quadratic loop added later is found here (test/security/redos.test.ts
 * checks every pattern statically).
 */
import fc from 'fast-check';
import { RenderPool } from '../../src/handlers/render-pool.js';
import { maildirContent } from '../../src/outputs/maildir.js';
import { makeMessage } from '../helpers/message.js';

/**
 * A message may take this long, plus 20 µs per byte, before the run fails:
 * far above any linear cost, even on a loaded machine.
 */
export const BUDGET_MS = 5000;

const RUN_CHARS = [
  'a',
  '!',
  '.',
  ' ',
  '\t',
  '"',
  '(',
  ')',
  '<',
  '>',
  '@',
  ',',
  ';',
  ':',
  '=',
  '?',
  '\\',
  '\x1b',
  '\x00',
  '\u202e',
  'é',
  '\r',
  '\n',
  '=?utf-8?q?',
  '--b',
];
const NAMES = [
  'From',
  'To',
  'Cc',
  'Bcc',
  'Subject',
  'Date',
  'Message-ID',
  'Content-Type',
  'Content-Transfer-Encoding',
  'MIME-Version',
  'Reply-To',
  'X-Odd',
];

/** A run of one piece, long enough to hurt a backtracking pattern, then a stray piece. */
const run = fc
  .tuple(fc.constantFrom(...RUN_CHARS), fc.integer({ min: 1, max: 3000 }), fc.constantFrom(...RUN_CHARS))
  .map(([c, n, end]) => c.repeat(n) + end);

const header = fc
  .tuple(
    fc.constantFrom(...NAMES),
    fc.array(
      fc.oneof(run, fc.string({ maxLength: 20 }), fc.constantFrom('<x@y.test>', ' <x@y.test>', '"q" <x@y.test>')),
      { maxLength: 4 },
    ),
  )
  .map(([name, parts]) => `${name}: ${parts.join('')}`);

const body = fc.oneof(
  fc.array(fc.oneof(run, fc.string({ maxLength: 40 })), { maxLength: 20 }).map((parts) => parts.join('\r\n')),
  fc.integer({ min: 0, max: 50_000 }).map((n) => 'x\r\n'.repeat(n)),
  fc.constant('--b\r\nContent-Type:\r\n\r\nx\r\n--b--'),
);

const mail = fc
  .tuple(fc.array(header, { maxLength: 8 }), body)
  .map(([headers, text]) => Buffer.from(`${headers.join('\r\n')}\r\n\r\n${text}\r\n`, 'utf8'));

const EVERY_FORMAT = (['raw', 'headers', 'parsed', 'json'] as const).map((format) => ({ format, colored: false }));
const SETTINGS = { lints: true, parses: true, showLint: true, includeRaw: false, showDialogue: true };

/**
 * Everything that reads a message's text, in the render worker, so that a
 * case that hangs (a synchronous loop no timer can interrupt) is stopped at
 * its budget and reported instead of hanging the run.
 */
async function readEverywhere(pool: RenderPool, data: Buffer, budgetMs: number): Promise<void> {
  const message = makeMessage(data);
  maildirContent(message);
  await pool.render({ message, extra: {}, settings: SETTINGS, outputs: EVERY_FORMAT, wantParsed: false }, budgetMs);
}

export interface FuzzResult {
  readonly cases: number;
  readonly failure: string | undefined;
}

/** Fuzzes for `seconds`; resolves with the number of cases and the first failure, if any. */
export async function fuzzMessages(seconds: number, seed: number): Promise<FuzzResult> {
  let cases = 0;
  const pool = new RenderPool();
  try {
    // The worker's first job loads it, mailparser and chalk: not a case, and not timed.
    await pool.render({
      message: makeMessage('Subject: warm-up\n\nx\n'),
      extra: {},
      settings: SETTINGS,
      outputs: EVERY_FORMAT,
      wantParsed: false,
    });
    const result = await fc.check(
      fc.asyncProperty(mail, async (data) => {
        cases++;
        await readEverywhere(pool, data, BUDGET_MS + data.length / 50);
      }),
      {
        seed,
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: seconds * 1000,
        markInterruptAsFailure: false,
      },
    );
    const why = result.errorInstance instanceof Error ? `\n${result.errorInstance.message}` : '';
    return { cases, failure: result.failed ? `${fc.defaultReportMessage(result)}${why}` : undefined };
  } finally {
    await pool.close();
  }
}
