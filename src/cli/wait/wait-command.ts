/**
 * `smtpd-ts wait`: for scripts that start the sink in one step and wait for
 * it in another. It waits until the sink's `--ready-file` is written (and
 * prints the `host:port` in it), and/or until the sink's JSON-lines output
 * (`-o json:FILE`) holds `--count` messages, and/or (`--http URL --query Q`)
 * until its inbox holds a message Q matches (printed as Mailpit's JSON, on
 * one line); exit 0 then, 3 when `--timeout` passes first (saying how far
 * it got), 2 for bad flags.
 *
 * It polls the files every POLL_MS: they are written by another process,
 * atomically (the ready file) or a line per write (JSON lines), and polling
 * works on every file system, where fs.watch does not.
 */
import { Command, CommanderError } from 'commander';
import { readFile } from 'node:fs/promises';
import { positiveSeconds, wholeNumber } from '../flag-values.js';
import { EXIT } from '../../exit-codes.js';
import { JsonlCounter } from './jsonl-counter.js';
import { UsageError } from '../../errors.js';

/** How often the files are looked at. */
const POLL_MS = 50;

/** Default `--timeout`: a wait is always bounded. */
const DEFAULT_WAIT_SECONDS = 30;

/** What `smtpd-ts --help` says about the subcommand. */
export const WAIT_SUMMARY = `
Commands:
  wait [options]  wait for a sink started elsewhere to be ready (--ready-file), until
                  its JSON-lines file holds N messages (--jsonl FILE --count N), or until
                  its inbox holds a message a search matches (--http URL --query Q);
                  exit 0, or ${EXIT.TIMEOUT} on --timeout (see smtpd-ts wait --help)
  sendmail [options] [recipient ...]
                  a sendmail for PHP's mail(), cron and scripts: submits the message
                  on stdin to a running sink (see smtpd-ts sendmail --help)`;

/** What `wait` was asked to do. */
interface WaitConfig {
  readonly readyFile: string | null;
  readonly jsonl: string | null;
  readonly count: number;
  readonly timeoutMs: number;
  /** `--http URL --query Q [--after ID]`: the inbox's base URL and the search. */
  readonly http: { readonly url: string; readonly query: string; readonly after: string | null } | null;
}

interface WaitOptions {
  readyFile?: string;
  jsonl?: string;
  count?: string;
  timeout?: string;
  http?: string;
  query?: string;
  after?: string;
}

/** The longest the inbox holds one request (its `wait=` bound): longer waits ask again. */
const HELD_MS = 120_000;

/** Flags to WaitConfig; throws UsageError with one line. */
function toWaitConfig(options: WaitOptions): WaitConfig {
  if (options.readyFile === undefined && options.jsonl === undefined && options.http === undefined) {
    throw new UsageError('wait needs --ready-file PATH, --jsonl FILE, --http URL --query Q, or several');
  }
  if ((options.http === undefined) !== (options.query === undefined) || (options.after !== undefined && !options.http))
    throw new UsageError('--http URL and --query Q go together (and --after ID with them)');
  if (options.http !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(options.http))
    throw new UsageError(`--http takes the inbox's base URL (http://127.0.0.1:8025), not '${options.http}'`);
  if (options.readyFile === '' || options.jsonl === '') throw new UsageError('--ready-file and --jsonl need a path');
  if (options.count !== undefined && options.jsonl === undefined) {
    throw new UsageError(
      "--count counts the sink's JSON lines: give --jsonl FILE (the file of the sink's -o json:FILE)",
    );
  }
  return {
    readyFile: options.readyFile ?? null,
    jsonl: options.jsonl ?? null,
    count: wholeNumber(options.count, '--count', 1, 1),
    timeoutMs: positiveSeconds(options.timeout, '--timeout', DEFAULT_WAIT_SECONDS * 1000),
    http:
      options.http === undefined
        ? null
        : { url: options.http.replace(/\/$/, ''), query: options.query!, after: options.after ?? null },
  };
}

function program(): Command {
  return new Command('smtpd-ts wait')
    .description(
      'Wait for an smtpd-ts started elsewhere: until its ready file is written, and/or its JSON-lines output holds N messages.',
    )
    .option('--ready-file <path>', "the sink's --ready-file: wait until it is written, then print the host:port in it")
    .option('--jsonl <file>', "the sink's JSON-lines output (-o json:FILE): wait until it holds --count messages")
    .option('--count <n>', 'messages to wait for in --jsonl (default: 1)')
    .option('--http <url>', "the sink's inbox (--http): with --query, wait until it holds a message the search matches")
    .option(
      '--query <search>',
      'a Mailpit search (subject:Welcome to:dev+t1@example.test); the message is printed as JSON',
    )
    .option('--after <id>', 'with --query: only a message newer than this inbox ID')
    .option('--timeout <seconds>', `give up with exit ${EXIT.TIMEOUT} after SECONDS (default: ${DEFAULT_WAIT_SECONDS})`)
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

/** The ready file's text once it is complete (the sink writes it atomically), or null. */
async function readReady(path: string): Promise<string | null> {
  try {
    const text = await readFile(path, 'utf8');
    return text.endsWith('\n') ? text : null;
  } catch {
    return null;
  }
}

/** Waits as `config` says; resolves with the exit code. */
async function waitFor(
  config: WaitConfig,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const deadline = Date.now() + config.timeoutMs;
  const seconds = config.timeoutMs / 1000;
  if (config.readyFile !== null) {
    let ready: string | null;
    while ((ready = await readReady(config.readyFile)) === null) {
      if (Date.now() >= deadline) {
        io.stderr.write(
          `smtpd-ts wait: timeout: ${seconds} s passed; ${config.readyFile} was not written (is the sink running?)\n`,
        );
        return EXIT.TIMEOUT;
      }
      await tick();
    }
    io.stdout.write(ready);
  }
  if (config.jsonl !== null) {
    const counter = new JsonlCounter(config.jsonl);
    let n: number;
    while ((n = await counter.count()) < config.count) {
      if (Date.now() >= deadline) {
        io.stderr.write(
          `smtpd-ts wait: timeout: ${seconds} s passed; ${n} of ${config.count} messages arrived in ${config.jsonl}\n`,
        );
        return EXIT.TIMEOUT;
      }
      await tick();
    }
  }
  if (config.http !== null) return waitForMessage(config.http, deadline, seconds, io);
  return EXIT.OK;
}

/**
 * Asks the inbox for the newest message the query matches and lets it hold
 * the request until one arrives (`latest?wait=`), asking again while the
 * deadline allows (a sink still starting refuses the connection).
 */
async function waitForMessage(
  http: NonNullable<WaitConfig['http']>,
  deadline: number,
  seconds: number,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const params = new URLSearchParams({ query: http.query, ...(http.after ? { after: http.after } : {}) });
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      io.stderr.write(`smtpd-ts wait: timeout: ${seconds} s passed; no message in ${http.url} matches ${http.query}\n`);
      return EXIT.TIMEOUT;
    }
    const url = `${http.url}/api/v1/message/latest?${params}&wait=${Math.ceil(Math.min(left, HELD_MS))}ms`;
    const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(left, HELD_MS) + 5000) }).catch(() => null);
    if (res === null) {
      await tick(); // not listening yet
      continue;
    }
    const body = await res.text();
    if (res.status === 200) {
      io.stdout.write(`${JSON.stringify(JSON.parse(body))}\n`);
      return EXIT.OK;
    }
    if (res.status !== 404) throw new Error(`${http.url} answered ${res.status}: ${body.split('\n')[0]}`);
    // The wait ran out (or the inbox could not hold the request): ask again, not at once.
    await tick();
  }
}

/** `smtpd-ts wait ARGS`: parses, waits, and resolves with the exit code. */
export async function runWait(
  argv: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const cmd = program();
  cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
  let config: WaitConfig;
  try {
    cmd.parse([...argv], { from: 'user' });
    config = toWaitConfig(cmd.opts<WaitOptions>());
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK; // --help
      io.stderr.write(`smtpd-ts wait: ${err.message.replace(/^error: /, '')} (see smtpd-ts wait --help)\n`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`smtpd-ts wait: ${err.message}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
  try {
    return await waitFor(config, io);
  } catch (err) {
    io.stderr.write(`smtpd-ts wait: ${(err as Error).message}\n`);
    return EXIT.START_FAILED;
  }
}
