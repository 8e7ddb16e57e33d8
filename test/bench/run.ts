/**
 * `npm run bench`: the benchmark. Starts each server on a
 * loopback port, drives it with the load generator, and prints a markdown
 * report (medians, ratios against each peer, targets). See
 * test/bench/README.md; `--help` lists the flags.
 *
 * Exit status: 0, or 1 when a run failed (a wrong reply code, a crash, a
 * message missing from the output), 2 for a bad flag. Timeouts are reported
 * in the table, not failures: they are what a stalling server does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench, type BenchOptions, type GeneratorName } from './bench.js';
import { killAllNow } from './processes.js';
import { formatReport } from './report.js';
import { SCENARIO_IDS, isScenarioId, type ScenarioId } from './scenarios.js';
import { buildProblem, SERVERS, type SmtpdFrom } from './servers.js';

const USAGE = `Usage: npm run bench -- [options]

  --rounds N            rounds (default 3; 1 with --smoke)
  --scenarios LIST      comma-separated, from ${SCENARIO_IDS.join(',')} (default: all)
  --servers LIST        comma-separated, from ${SERVERS.map((s) => s.name).join(',')} (default: all; missing peers are skipped)
  --timeout SECONDS     bound on each run's traffic (default 60; 20 with --smoke)
  --generator NAME      node (default) or smtp-source (Postfix's, for S1, S2, S3)
  --smoke               a few hundred messages per scenario: checks the harness, not the speed
  --from-source         run smtpd-ts from src/ through tsx instead of the build (default with --smoke when dist/ is stale)
  --profile DIR         run smtpd-ts with --cpu-prof, writing .cpuprofile files to DIR
  --out FILE            also write the markdown report to FILE
  --json FILE           also write every sample as JSON to FILE
  --tmpdir DIR          where server output files go (default: the system temp dir)
  --inbox / --no-inbox  also run the inbox and web UI bench (test/bench/inbox.ts) and the shared
                        sink's (test/bench/shared.ts): on by default for a full run (no
                        --scenarios, --servers or --smoke)
  -h, --help            this help
`;

class UsageError extends Error {}

/** Removed at the end, and on Ctrl-C: server outputs there can be hundreds of MiB. */
let tmpDir: string | undefined;

function list<T extends string>(
  value: string | undefined,
  all: readonly T[],
  valid: (s: string) => s is T,
  what: string,
): T[] {
  if (value === undefined) return [...all];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items)
    if (!valid(item)) throw new UsageError(`unknown ${what} '${item}' (one of ${all.join(', ')})`);
  return items as T[];
}

function positive(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, not '${value}'`);
  return n;
}

function commandLine(argv: readonly string[]): string {
  const args = argv.length > 0 ? ` ${argv.join(' ')}` : '';
  return process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${args ? ` --${args}` : ''}`
    : `node --import tsx test/bench/run.ts${args}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string' },
      scenarios: { type: 'string' },
      servers: { type: 'string' },
      timeout: { type: 'string' },
      generator: { type: 'string' },
      smoke: { type: 'boolean' },
      'from-source': { type: 'boolean' },
      profile: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      tmpdir: { type: 'string' },
      inbox: { type: 'boolean' },
      'no-inbox': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const smoke = values.smoke ?? false;
  const generator = (values.generator ?? 'node') as GeneratorName;
  if (generator !== 'node' && generator !== 'smtp-source')
    throw new UsageError(`--generator is node or smtp-source, not '${generator}'`);
  const serverNames = SERVERS.map((s) => s.name);
  const servers = list(values.servers, serverNames, (s): s is string => serverNames.includes(s), 'server');
  const scenarios: ScenarioId[] = list(values.scenarios, SCENARIO_IDS, isScenarioId, 'scenario');
  let smtpdFrom: SmtpdFrom = values['from-source'] ? 'source' : 'build';
  if (smoke && smtpdFrom === 'build' && buildProblem()) smtpdFrom = 'source';
  const profile = values.profile ? path.resolve(values.profile) : undefined;
  tmpDir = mkdtempSync(path.join(values.tmpdir ?? os.tmpdir(), 'smtpd-ts-bench-'));
  const options: BenchOptions = {
    rounds: Math.floor(positive(values.rounds, smoke ? 1 : 3, '--rounds')),
    scenarios,
    servers,
    smoke,
    timeoutMs: positive(values.timeout, smoke ? 20 : 60, '--timeout') * 1000,
    generator,
    tmpDir,
    smtpdFrom,
    smtpdNodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
    log: (line) => process.stderr.write(`${line}\n`),
  };
  try {
    const report = await runBench(options);
    const full = values.scenarios === undefined && values.servers === undefined && !smoke;
    const inbox = values['no-inbox'] ? '' : (values.inbox ?? full) ? extraReports() : '';
    const text = formatReport(report, { command: commandLine(argv) }) + inbox;
    process.stdout.write(text);
    if (values.out) writeFileSync(values.out, text);
    if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    for (const f of report.failures) process.stderr.write(`FAILED: ${f}\n`);
    return report.failures.length > 0 ? 1 : 0;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = undefined;
  }
}

/** The inbox and web UI figures (inbox.ts) and the shared sink's (shared.ts), each its own process, as sections. */
function extraReports(): string {
  const section = (file: string, title: string): string => {
    process.stderr.write(`bench: ${title} (test/bench/${file})\n`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 900_000,
    });
    const body = run.status === 0 ? run.stdout : `${file} failed (status ${run.status ?? run.signal})\n`;
    return `\n## ${title}\n\n${body}`;
  };
  return (
    section('inbox.ts', 'The inbox and the web UI (npm run bench:inbox)') +
    section('shared.ts', 'The shared sink: PostgreSQL and HAProxy (npm run bench:shared)')
  );
}

// Whatever happens, no server or generator is left running: each is killed by its PID.
process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}: stopping the servers it started\n`);
    killAllNow();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bench: ${(err as Error).message} (see --help)\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
