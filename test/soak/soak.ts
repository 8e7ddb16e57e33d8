/**
 * The soak test: the real CLI (`src/cli/run.ts -f json -o json:FILE`)
 * in a child process, N concurrent clients (./load.ts) sending thousands of
 * messages, some of them dropped mid-command, mid-DATA or right after the
 * final dot. Afterwards every message that got a 250 must be in the JSON
 * output exactly once (with the right size), none that did not, except those
 * whose client hung up after the dot (at most once); the server's memory and
 * file descriptors must be back near their idle level, and a new client must
 * still get a 250. The `sigterm` variant sends SIGTERM halfway: the server
 * must exit 0 with every 250 in the output, and every client still connected
 * must get a 421 (stalled DATA sessions after the grace period).
 *
 *   node --import tsx test/soak/soak.ts --clients 200 --messages 50000 --seconds 300
 *   node --import tsx test/soak/soak.ts --short          # what CI runs, both variants
 *
 * Every wait is bounded; the only process started is the CLI, killed by PID.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { memory } from '../bench/proc-stats.js';
import { startCli } from '../helpers/cli.js';
import { exited } from '../helpers/process.js';
import { Load, type LoadPlan } from './load.js';
import { checkOutput, mib, summary, tally, type Sample, type SoakReport, type Variant } from './report.js';

export { summary, type SoakReport, type Variant };

export interface SoakOptions {
  readonly variant: Variant;
  readonly clients: number;
  readonly messages: number;
  /** No message is started after this many seconds of load. */
  readonly seconds: number;
  readonly seed: number;
  /** Progress lines (the script passes stderr; the test nothing). */
  readonly log?: (line: string) => void;
}

/** CI's short mode: 200 clients, a couple of thousand messages, seconds each. */
export const SHORT = { clients: 200, messages: 2000, seconds: 20 } as const;

/** The server's `-s`: small, so that oversize messages (552) stay cheap. */
const SIZE_LIMIT = 262_144;
const REPLY_TIMEOUT_MS = 15_000;
/** Past the load's deadline, open sessions are destroyed and the run fails. */
const HARD_SLACK_MS = 60_000;
/** The CLI finishes in-flight transactions for 3 s (SHUTDOWN_GRACE_MS), then flushes: 20 s is plenty. */
const EXIT_TIMEOUT_MS = 20_000;
/** How long the server may take to come back to its idle level after the load. */
const SETTLE_MS = 20_000;
/** Sessions of the sigterm variant that stall mid-DATA and must get 421 when the grace period ends. */
const STALLS = 5;
/**
 * Memory after the load, over idle. RSS does not come back down to idle: V8
 * keeps the heap pages it grew to while 200 sessions were busy (about 100 MB
 * committed), and the allocator keeps its arenas. Measured on 2 cores (Node
 * 20): RSS ends 90-110 MiB over idle whether the run had 20,000 or 300,000
 * messages, while the live heap after each full GC (`--trace-gc`) stays at
 * 21 MB under load and 7 MB idle, 127,000 messages in. A bound that does not
 * grow with the message count tells that plateau from a leak: 50,000
 * messages leaking 1 KiB each would end 50 MiB higher and fail here.
 */
const RSS_SLACK_KIB = 128 * 1024;
/** Descriptors after the load, over idle: every client socket must be closed. */
const FD_SLACK = 10;

function sample(pid: number): Sample {
  return { rssKiB: memory(pid).rssKiB, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** The server's idle sample, once its descriptor count has stopped moving (bounded: 5 s). */
async function steady(pid: number): Promise<Sample> {
  let previous = sample(pid);
  await poll(() => {
    const now = sample(pid);
    const same = now.fds === previous.fds;
    previous = now;
    return same;
  }, 5000);
  return previous;
}

function bounded<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 100 ms for up to `ms`; resolves with whether it held. */
async function poll(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function plan(
  port: number,
  options: { clients: number; messages: number; seconds: number; seed: number; faults: boolean; stalls: number },
): LoadPlan {
  return {
    port,
    clients: options.clients,
    messages: options.messages,
    deadline: Date.now() + options.seconds * 1000,
    seed: options.seed,
    runId: randomBytes(4).toString('hex'),
    sizeLimit: SIZE_LIMIT,
    faults: options.faults,
    stalls: options.stalls,
    replyTimeoutMs: REPLY_TIMEOUT_MS,
  };
}

/** Runs `load` within its deadline plus HARD_SLACK_MS; past that, destroys its sessions and says so. */
async function drive(load: Load, problems: string[]): Promise<void> {
  const finished = await bounded(
    load.run().then(() => true),
    load.plan.deadline - Date.now() + HARD_SLACK_MS,
    () => false,
  );
  if (!finished) {
    problems.push(`the clients had not finished ${HARD_SLACK_MS / 1000} s after the deadline`);
    load.destroyAll();
    await bounded(load.run(), 5000, () => undefined);
  }
  for (const f of load.failures) problems.push(f);
  if (load.failureCount > load.failures.length)
    problems.push(`... and ${load.failureCount - load.failures.length} more client failures`);
}

/** Runs one soak; resolves with its report (problems empty when it passed). */
export async function soak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-soak-'));
  const output = path.join(dir, 'out.jsonl');
  const cli = await startCli(['-f', 'json', '-o', `json:${output}`, '-s', String(SIZE_LIMIT), '127.0.0.1:0']).catch(
    async (err: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw err;
    },
  );
  const pid = cli.child.pid!;
  let sampler: NodeJS.Timeout | undefined;
  let trigger: NodeJS.Timeout | undefined;
  try {
    // Warm-up: load mailparser and warm the JIT, so that "idle" is a server that has seen mail.
    const warmup = new Load(
      plan(cli.port, { clients: 4, messages: 40, seconds: 30, seed: options.seed, faults: false, stalls: 0 }),
    );
    await drive(warmup, problems);
    const idle = await steady(pid);
    log(
      `soak ${options.variant}: server pid ${pid} on 127.0.0.1:${cli.port}, idle RSS ${mib(idle.rssKiB)}, ${idle.fds} fds; seed ${options.seed}`,
    );

    let peak: Sample = idle;
    let last = Date.now();
    const load = new Load(
      plan(cli.port, { ...options, faults: true, stalls: options.variant === 'sigterm' ? STALLS : 0 }),
    );
    const begin = Date.now();
    sampler = setInterval(() => {
      try {
        const now = sample(pid);
        peak = { rssKiB: Math.max(peak.rssKiB, memory(pid).hwmKiB), fds: Math.max(peak.fds, now.fds) };
        if (Date.now() - last >= 5000) {
          last = Date.now();
          log(
            `  ${((last - begin) / 1000).toFixed(0)} s: ${load.accepted} accepted, RSS ${mib(now.rssKiB)}, ${now.fds} fds`,
          );
        }
      } catch {
        // the server has exited (sigterm variant)
      }
    }, 250);
    let signalled = false;
    if (options.variant === 'sigterm') {
      // SIGTERM halfway, by messages or by time, whichever comes first.
      trigger = setInterval(() => {
        if (load.accepted >= options.messages / 2 || Date.now() - begin >= (options.seconds * 1000) / 2) {
          clearInterval(trigger);
          signalled = true;
          load.serverStopping = true;
          log(`  SIGTERM to ${pid} after ${load.accepted} accepted`);
          process.kill(pid, 'SIGTERM');
        }
      }, 20);
    }
    await drive(load, problems);
    const durationMs = Date.now() - begin;
    clearInterval(trigger);

    let after: Sample | null = null;
    let exit: SoakReport['exit'] = null;
    let checked: Load[];
    if (options.variant === 'steady') {
      const bound = (s: Sample) => s.fds <= idle.fds + FD_SLACK && s.rssKiB <= idle.rssKiB + RSS_SLACK_KIB;
      await poll(() => bound(sample(pid)), SETTLE_MS);
      after = sample(pid);
      peak = { rssKiB: Math.max(peak.rssKiB, memory(pid).hwmKiB), fds: peak.fds };
      if (after.fds > idle.fds + FD_SLACK) problems.push(`${after.fds} fds after the load, ${idle.fds} idle`);
      if (after.rssKiB > idle.rssKiB + RSS_SLACK_KIB)
        problems.push(`RSS ${mib(after.rssKiB)} after the load, ${mib(idle.rssKiB)} idle`);
      // A new client still gets its 250, and its message is written.
      const fresh = new Load(
        plan(cli.port, { clients: 1, messages: 1, seconds: 10, seed: options.seed, faults: false, stalls: 0 }),
      );
      await drive(fresh, problems);
      if (fresh.accepted !== 1) problems.push('a new client did not get 250 after the load');
      exit = await bounded(cli.stop('SIGTERM'), EXIT_TIMEOUT_MS, () => ({ code: null, signal: null }));
      checked = [warmup, load, fresh];
    } else {
      if (!signalled) problems.push('the load ended before SIGTERM was sent');
      exit = await bounded(exited(cli.child), EXIT_TIMEOUT_MS, () => ({ code: null, signal: null }));
      const stalls = [...load.ledger.values()].filter((e) => e.fate === 'stall');
      const cut = stalls.filter((e) => e.code === 421).length;
      if (cut !== stalls.length)
        problems.push(`${stalls.length - cut} of ${stalls.length} stalled DATA sessions got no 421`);
      if (!load.sessionEnds.get('got-421')) problems.push('no session got a 421');
      checked = [warmup, load];
    }
    if (exit.code !== 0)
      problems.push(
        `the server exited with ${exit.code ?? exit.signal ?? 'nothing: it was still running'}; stderr:\n${cli.stderr()}`,
      );
    const { lines, unknownWritten } = await checkOutput(output, checked, problems);
    return {
      variant: options.variant,
      seed: options.seed,
      clients: options.clients,
      problems,
      durationMs,
      started: load.ledger.size,
      outcomes: load.outcomes(),
      fates: tally([...load.ledger.values()].map((e) => e.fate)),
      refusedBy: tally([...load.ledger.values()].filter((e) => e.outcome === 'refused').map((e) => e.code ?? 0)),
      unknownWritten,
      sessions: Object.fromEntries(load.sessionEnds),
      lines,
      idle,
      peak,
      after,
      exit,
    };
  } finally {
    clearInterval(sampler);
    clearInterval(trigger);
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL');
      await bounded(exited(cli.child), 5000, () => null);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    args: [...argv],
    options: { clients: text, messages: text, seconds: text, seed: text, variant: text, short: { type: 'boolean' } },
    strict: true,
  });
  const number = (text: string | undefined, fallback: number, name: string) => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
    return n;
  };
  const defaults = values.short ? SHORT : { clients: 200, messages: 20_000, seconds: 120 };
  const variants: Variant[] = values.variant === undefined ? ['steady', 'sigterm'] : [values.variant as Variant];
  if (!variants.every((v) => v === 'steady' || v === 'sigterm')) throw new Error('--variant is steady or sigterm');
  const seed = number(values.seed, 1 + (Date.now() % 2 ** 31), 'seed');
  let failed = false;
  for (const variant of variants) {
    const report = await soak({
      variant,
      clients: number(values.clients, defaults.clients, 'clients'),
      messages: number(values.messages, defaults.messages, 'messages'),
      seconds: number(values.seconds, defaults.seconds, 'seconds'),
      seed,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${summary(report)}\n`);
    failed ||= report.problems.length > 0;
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
