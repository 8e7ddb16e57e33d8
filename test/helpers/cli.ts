/**
 * Starts the real CLI as a child process and waits for its listening line,
 * which names the real port. The CLI run is the build when it is fresh,
 * else the source through tsx (NODE_ARGS).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN = path.join(ROOT, 'src', 'cli', 'run.ts');
const BUILT_RUN = path.join(ROOT, 'dist', 'cli', 'run.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the build cannot be run (missing, or older than src/), or undefined (`npm test` builds first: its `pretest`). */
export function buildProblem(): string | undefined {
  if (!existsSync(BUILT_RUN)) return 'dist/ is missing: run `npm run build` first';
  if (statSync(BUILT_RUN).mtimeMs < newestMtime(path.join(ROOT, 'src')))
    return 'dist/ is older than src/: run `npm run build` first';
  return undefined;
}

/**
 * The node arguments that run the CLI: the build when it is fresh, which
 * spares every sink a test starts tsx's start (about 0.4 s of CPU, hundreds
 * of times a run); else `--import tsx src/cli/run.ts`, so a test run by hand
 * after an edit never runs a stale build.
 */
export const NODE_ARGS = buildProblem() === undefined ? [BUILT_RUN] : ['--import', 'tsx', RUN];

export interface RunningCli {
  readonly child: ChildProcess;
  readonly port: number;
  readonly host: string;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stdout contains `text`, or once `text(stdout)` holds (bounded by `timeoutMs`). */
  waitForStdout(text: string | ((out: string) => boolean), timeoutMs?: number): Promise<void>;
  /** Sends a signal and resolves with the exit code and signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const LISTENING = /listening on (\[[^\]]+\]|[^\s:]+):(\d+)/;

/** Spawns the CLI with `args` (default address 127.0.0.1:0) and waits until it listens. */
export async function startCli(
  args: readonly string[] = ['127.0.0.1:0'],
  timeoutMs = 15_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningCli> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    for (const w of waiters) w();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const until = (check: () => boolean, what: string, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(poll);
      };
      const poll = () => {
        if (check()) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`));
      }, ms);
      waiters.add(poll);
      void exited.then(() => {
        if (!check()) {
          done();
          reject(new Error(`CLI exited while waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`));
        }
      });
      poll();
    });
  try {
    await until(() => LISTENING.test(err), 'the listening line', timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const m = LISTENING.exec(err)!;
  return {
    child,
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: Number(m[2]),
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (text, ms = 10_000) =>
      typeof text === 'string'
        ? until(() => out.includes(text), JSON.stringify(text), ms)
        : until(() => text(out), `stdout to satisfy ${text.name || 'a check'}`, ms),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig };
    },
  };
}

/** Runs the CLI with `args` and `127.0.0.1:0`, and asserts a usage error: exit 2 with one line on stderr. */
export function assertUsageError(args: readonly string[]): void {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args, '127.0.0.1:0'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

/** The inbox's base URL from the `--http` line on stderr (`http://127.0.0.1:PORT`). */
export function inboxUrl(cli: RunningCli): string {
  const m = /inbox over HTTP on (http:\/\/[^/\s]+)\//.exec(cli.stderr());
  assert.ok(m, cli.stderr());
  return m[1]!;
}
