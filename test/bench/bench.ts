/**
 * Runs the benchmark: for each round, for each scenario, each server in
 * turn (the order rotates by one each round, so no server is always first
 * or last), every run on a fresh server process. Results are samples; the
 * report (report.ts) turns them into medians, ratios and target verdicts.
 *
 * Every run is bounded in time: a run past its timeout is stopped and its
 * cell says "timeout" (Python smtpd's stall on pipelined input must not
 * hang the bench). A wrong reply code, a crashed server or a message
 * missing from the server's output is a failed run.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LoadRun, type LoadJob, type LoadResult } from './load-generator.js';
import { GeneratorTimeout, NodeGenerator, runSmtpSource, smtpSourcePath } from './generator.js';
import { cpuTimes, memory } from './proc-stats.js';
import {
  scenarios,
  type IdleScenario,
  type LoadScenario,
  type Scenario,
  type ScenarioId,
  type StartScenario,
} from './scenarios.js';
import {
  countInFile,
  findServer,
  postfixDaemons,
  type ServerContext,
  type ServerSpec,
  type SmtpdFrom,
  type StartedServer,
} from './servers.js';

export type GeneratorName = 'node' | 'smtp-source';

export interface BenchOptions {
  readonly rounds: number;
  readonly scenarios: readonly ScenarioId[];
  /** Server names, in table order. */
  readonly servers: readonly string[];
  readonly smoke: boolean;
  /** Bound on each run's traffic, in ms. */
  readonly timeoutMs: number;
  readonly generator: GeneratorName;
  /** Where server output files go (removed after each run). */
  readonly tmpDir: string;
  readonly smtpdFrom: SmtpdFrom;
  readonly smtpdNodeArgs: readonly string[];
  /** Progress, one line at a time. */
  readonly log: (line: string) => void;
}

export type Outcome = 'ok' | 'timeout' | 'failed';

/** One run of one scenario on one server. Metric keys are listed in report.ts. */
export interface Sample {
  readonly server: string;
  readonly scenario: ScenarioId;
  readonly round: number;
  readonly outcome: Outcome;
  readonly error: string | null;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface ServerEntry {
  readonly name: string;
  readonly ours: boolean;
  readonly command: string;
  readonly readyBy: string;
  /** Why it was skipped (with how to install it), or null when it ran. */
  readonly skipped: string | null;
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly python: string | null;
  /** 1-minute load average when the bench started and when it ended (other work on the machine disturbs it). */
  readonly loadAverage: readonly [number, number];
  /**
   * The disk's write speed where the outputs go, in MB/s (`dd`, flushed to
   * the disk), measured in this run: a server that writes every byte it
   * receives is capped by it. Null when dd is missing or failed.
   */
  readonly diskMBps: number | null;
}

/** Writes `mib` MiB of zeros with dd into `dir`, flushed (conv=fdatasync); MB/s, or null. */
export function diskWriteSpeed(dir: string, mib: number): number | null {
  const file = path.join(dir, 'dd.bench');
  const started = performance.now();
  const r = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`, 'conv=fdatasync', 'status=none'], {
    timeout: 120_000,
  });
  const seconds = (performance.now() - started) / 1000;
  rmSync(file, { force: true });
  return r.status === 0 ? (mib * 2 ** 20) / 1e6 / seconds : null;
}

export interface BenchReport {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly options: Omit<BenchOptions, 'log'>;
  readonly machine: Machine;
  readonly scenarios: readonly Scenario[];
  readonly servers: readonly ServerEntry[];
  readonly samples: readonly Sample[];
  readonly warnings: readonly string[];
  /** Failed runs (wrong code, crash, missing output): any makes the bench exit non-zero. */
  readonly failures: readonly string[];
}

export function machine(loadAtStart: number, diskMBps: number | null = null): Machine {
  let osName = os.type();
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // not Linux-like: keep os.type()
  }
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    kernel: os.release(),
    node: process.version,
    python: versionOf('python3', ['--version']),
    loadAverage: [loadAtStart, os.loadavg()[0]!],
    diskMBps,
  };
}

/** Slack over the traffic timeout for connecting, QUIT and the IPC round trips. */
const STEP_SLACK_MS = 15_000;

class RunFailed extends Error {
  constructor(
    message: string,
    readonly outcome: Outcome,
  ) {
    super(message);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0]!;
  const diskMBps = diskWriteSpeed(options.tmpDir, options.smoke ? 8 : 256);
  const log = options.log;
  const ctx: ServerContext = {
    tmpDir: options.tmpDir,
    smtpdFrom: options.smtpdFrom,
    smtpdNodeArgs: options.smtpdNodeArgs,
  };
  const all = scenarios(options.smoke);
  const chosen = options.scenarios.map((id) => all[id]);
  const warnings: string[] = [];
  const failures: string[] = [];
  const samples: Sample[] = [];

  const daemons = postfixDaemons();
  if (daemons.length > 0) {
    warnings.push(
      `a Postfix master daemon is running (PID ${daemons.join(', ')}): it competes for the CPU; stop it with \`postfix stop\``,
    );
  }
  if (options.generator === 'smtp-source' && !smtpSourcePath()) {
    throw new Error(
      '--generator smtp-source: smtp-source is not installed (`apt-get install postfix`, then `postfix stop`)',
    );
  }

  const entries: ServerEntry[] = [];
  const runnable: ServerSpec[] = [];
  for (const name of options.servers) {
    const spec = findServer(name);
    if (!spec) throw new Error(`unknown server '${name}'`);
    const skipped = spec.unavailable(ctx) ?? null;
    entries.push({ name, ours: spec.ours, command: spec.command(ctx), readyBy: spec.readyBy, skipped });
    if (skipped) log(`skipping ${name}: ${skipped}`);
    else runnable.push(spec);
  }

  const generator = new NodeGenerator();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const shift = (round - 1) % Math.max(1, runnable.length);
      const order = [...runnable.slice(shift), ...runnable.slice(0, shift)];
      for (const scenario of chosen) {
        for (const spec of order) {
          const t0 = performance.now();
          let sample: Sample;
          try {
            const metrics = await runScenario(spec, scenario, ctx, options, generator);
            sample = { server: spec.name, scenario: scenario.id, round, outcome: 'ok', error: null, metrics };
          } catch (e) {
            const outcome = e instanceof RunFailed ? e.outcome : 'failed';
            const error = e instanceof Error ? e.message : String(e);
            sample = { server: spec.name, scenario: scenario.id, round, outcome, error, metrics: {} };
            if (outcome === 'failed') failures.push(`round ${round}, ${scenario.id}, ${spec.name}: ${error}`);
          }
          samples.push(sample);
          log(
            `round ${round}/${options.rounds} ${scenario.id.padEnd(3)} ${spec.name.padEnd(16)} ${describe(sample)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
          );
        }
      }
    }
  } finally {
    await generator.close();
  }
  const { log: _log, ...rest } = options;
  return {
    startedAt,
    finishedAt: new Date(),
    options: rest,
    machine: machine(loadAtStart, diskMBps),
    scenarios: chosen,
    servers: entries,
    samples,
    warnings,
    failures,
  };
}

function describe(s: Sample): string {
  if (s.outcome !== 'ok') return `${s.outcome.toUpperCase()}: ${s.error?.split('\n')[0]}`;
  return Object.entries(s.metrics)
    .map(([k, v]) => `${k.split('.')[1]}=${round1(v)}`)
    .join(' ');
}

async function runScenario(
  spec: ServerSpec,
  scenario: Scenario,
  ctx: ServerContext,
  options: BenchOptions,
  generator: NodeGenerator,
): Promise<Record<string, number>> {
  switch (scenario.kind) {
    case 'load':
      return withServer(spec, ctx, (server) => runLoad(spec, server, scenario, options, generator));
    case 'idle':
      return withServer(spec, ctx, (server) => runIdle(server, scenario, options, generator));
    case 'start':
      return runStart(spec, scenario, ctx, options);
    default: {
      const never: never = scenario;
      throw new Error(`unknown scenario ${JSON.stringify(never)}`);
    }
  }
}

async function withServer<T>(
  spec: ServerSpec,
  ctx: ServerContext,
  body: (server: StartedServer) => Promise<T>,
): Promise<T> {
  const server = await spec.start(ctx);
  const crashed = (why?: unknown) =>
    new RunFailed(
      `${spec.name} exited during the run${why instanceof Error ? ` (${why.message})` : ''}\n${server.stderr().trim()}`,
      'failed',
    );
  try {
    let result: T;
    try {
      result = await body(server);
    } catch (e) {
      throw server.exited() ? crashed(e) : e;
    }
    if (server.exited()) throw crashed();
    return result;
  } finally {
    await server.stop();
  }
}

/** Turns a generator result into a thrown RunFailed unless it is a complete, clean run. */
function check(result: LoadResult, job: LoadJob): void {
  if (result.timedOut)
    throw new RunFailed(
      `${result.error ?? 'timeout'} (${result.messages} of ${job.messages} messages done)`,
      'timeout',
    );
  if (!result.ok)
    throw new RunFailed(result.error ?? `only ${result.messages} of ${job.messages} messages were accepted`, 'failed');
}

/** Asks the generator, turning its hang into a timeout. */
async function step<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof GeneratorTimeout) throw new RunFailed(e.message, 'timeout');
    throw new RunFailed(e instanceof Error ? e.message : String(e), 'failed');
  }
}

async function runLoad(
  spec: ServerSpec,
  server: StartedServer,
  scenario: LoadScenario,
  options: BenchOptions,
  generator: NodeGenerator,
): Promise<Record<string, number>> {
  const job: LoadJob = {
    host: '127.0.0.1',
    port: server.port,
    mode: scenario.mode,
    connections: scenario.connections,
    messages: scenario.messages,
    messageSize: scenario.messageSize,
    warmup: scenario.warmup,
    timeoutMs: options.timeoutMs,
  };
  const viaSmtpSource = options.generator === 'smtp-source' && scenario.mode === 'lockstep';
  let result: LoadResult;
  let cpu0: { user: number; system: number };
  let cpu1: { user: number; system: number };
  let mem;
  const limit = options.timeoutMs + STEP_SLACK_MS;
  if (viaSmtpSource) {
    // The same warm-up as with the node generator, then smtp-source alone.
    await step(generator.prepare(job, limit));
    const warmupError = await step(generator.finish(limit));
    if (warmupError) throw new RunFailed(`warm-up: ${warmupError}`, 'failed');
    cpu0 = cpuTimes(server.pid);
    result = await runSmtpSource(job);
    cpu1 = cpuTimes(server.pid);
    mem = memory(server.pid);
  } else {
    await step(generator.prepare(job, limit));
    cpu0 = cpuTimes(server.pid);
    result = await step(generator.go(limit));
    cpu1 = cpuTimes(server.pid);
    mem = memory(server.pid);
    const quitError = await step(generator.finish(limit));
    if (quitError && result.ok) result = { ...result, ok: false, error: quitError };
  }
  check(result, job);
  if (spec.recordMarker !== null && server.outputFile !== null) {
    const printed = await countInFile(server.outputFile, spec.recordMarker);
    const accepted = job.warmup + result.messages;
    if (printed !== accepted)
      throw new RunFailed(`${accepted} messages were accepted but ${printed} printed`, 'failed');
  }
  const seconds = result.elapsedMs / 1000;
  const user = cpu1.user - cpu0.user;
  const system = cpu1.system - cpu0.system;
  const cpu = user + system;
  const id = scenario.id;
  const metrics: Record<string, number> = {
    [`${id}.rate`]: result.messages / seconds,
    [`${id}.mbps`]: result.bytes / 1e6 / seconds,
    [`${id}.cpuMsg`]: (cpu * 1e6) / result.messages,
    // User and system apart: the user part is the server's own work; the system part mostly the sockets'.
    [`${id}.userMsg`]: (user * 1e6) / result.messages,
    [`${id}.sysMsg`]: (system * 1e6) / result.messages,
    [`${id}.cpuMB`]: (cpu * 1e3) / (result.bytes / 1e6),
    [`${id}.hwm`]: mem.hwmKiB / 1024,
  };
  // How busy the generator was: near 100 %, it, not the server, set the pace.
  if (Number.isFinite(result.generatorCpuMs))
    metrics[`${id}.genBusy`] = (100 * result.generatorCpuMs) / result.elapsedMs;
  if (result.latencyMs) {
    metrics[`${id}.p50`] = result.latencyMs.p50;
    metrics[`${id}.p99`] = result.latencyMs.p99;
  }
  return metrics;
}

async function runIdle(
  server: StartedServer,
  scenario: IdleScenario,
  options: BenchOptions,
  generator: NodeGenerator,
): Promise<Record<string, number>> {
  const before = memory(server.pid);
  const job: LoadJob = {
    host: '127.0.0.1',
    port: server.port,
    mode: 'idle',
    connections: scenario.connections,
    messages: 0,
    messageSize: 0,
    warmup: 0,
    timeoutMs: options.timeoutMs,
  };
  const limit = options.timeoutMs + STEP_SLACK_MS;
  await step(generator.prepare(job, limit));
  // Every session has been greeted and answered EHLO: the server holds them all.
  const during = memory(server.pid);
  await step(generator.go(limit));
  const quitError = await step(generator.finish(limit));
  if (quitError) throw new RunFailed(quitError, 'failed');
  return {
    'S4.perConn': (during.rssKiB - before.rssKiB) / scenario.connections,
    'S4.hwm': during.hwmKiB / 1024,
  };
}

async function runStart(
  spec: ServerSpec,
  scenario: StartScenario,
  ctx: ServerContext,
  options: BenchOptions,
): Promise<Record<string, number>> {
  const listen: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < scenario.starts; i++) {
    await withServer(spec, ctx, async (server) => {
      // In this process, at once: the client starts as soon as the server is known to listen.
      const job: LoadJob = {
        host: '127.0.0.1',
        port: server.port,
        mode: 'lockstep',
        connections: 1,
        messages: 1,
        messageSize: scenario.messageSize,
        warmup: 0,
        timeoutMs: options.timeoutMs,
      };
      const run = new LoadRun(job);
      await run.prepare().catch(() => {}); // a failure shows in go()'s result
      const result = await run.go();
      const firstAt = performance.now();
      await run.finish();
      check(result, job);
      listen.push(server.readyMs);
      first.push(firstAt - server.spawnedAt);
    });
  }
  return { 'S5.listen': median(listen), 'S5.first': median(first) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `python3 --version` etc., for the report's machine line. */
export function versionOf(command: string, args: readonly string[]): string | null {
  const r = spawnSync(command, [...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? null;
}
