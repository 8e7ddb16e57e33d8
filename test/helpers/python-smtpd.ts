/**
 * Starts Python 3.11's `python3 -m smtpd -n -c DebuggingServer`, the
 * reference implementation, for differential tests.
 *
 * smtpd prints nothing when it is ready, so it runs with `-d`: its debug
 * stream (stderr) then says "DebuggingServer started at ..." right after it
 * has bound and listened. `-d` changes no reply, only what goes to stderr.
 * smtpd cannot listen on port 0 and report the port, so a free port is
 * picked by binding a node server to port 0 and closing it; when another
 * process takes that port meanwhile, smtpd fails to bind and we try again.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './free-port.js';

export const PYTHON = 'python3';

/**
 * Why the reference cannot run here (the reason to give `t.skip()`), or
 * undefined when `python3 -c "import smtpd"` works. smtpd left the standard
 * library in Python 3.12.
 */
export function smtpdUnavailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-W', 'ignore', '-c', 'import smtpd'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `${PYTHON} is not available (${r.error.message}); the reference smtpd cannot run`;
  if (r.status !== 0)
    return `${PYTHON} has no smtpd module (it was removed in Python 3.12): ${r.stderr.trim().split('\n').pop()}`;
  return undefined;
}

export interface RunningSmtpd {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything written to stdout so far (DebuggingServer's output). */
  stdout(): string;
  /** Everything written to stderr so far (the `-d` debug stream, tracebacks). */
  stderr(): string;
  /** Resolves once `check(stdout())` holds (bounded by `timeoutMs`). */
  waitForStdout(check: (out: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Kills the process (this one only, by its PID) and waits for it to exit. */
  stop(): Promise<void>;
}

const READY = 'DebuggingServer started at';
const BIND_FAILED = /Address already in use|EADDRINUSE/;

/**
 * Starts `python3 -u -m smtpd -n -d -c DebuggingServer <options> 127.0.0.1:PORT`
 * on a free port and resolves once it listens. `-u` keeps stdout unbuffered
 * through the pipe, so each message is readable before its 250 arrives.
 */
export async function startPythonSmtpd(
  options: readonly string[] = [],
  attempts = 5,
  timeoutMs = 10_000,
): Promise<RunningSmtpd> {
  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const port = await freePort();
    try {
      return await startOn(port, options, timeoutMs);
    } catch (e) {
      lastError = e as Error;
      if (!BIND_FAILED.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('smtpd did not start');
}

async function startOn(port: number, options: readonly string[], timeoutMs: number): Promise<RunningSmtpd> {
  const args = [
    '-u',
    '-W',
    'ignore::DeprecationWarning',
    '-m',
    'smtpd',
    '-n',
    '-d',
    '-c',
    'DebuggingServer',
    ...options,
    `127.0.0.1:${port}`,
  ];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    wake();
  });
  const exited = once(child, 'exit');
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    wake();
  });
  const until = (check: () => boolean, what: string, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        waiters.delete(poll);
        if (error) reject(error);
        else resolve();
      };
      const poll = () => {
        if (check()) finish();
        else if (hasExited)
          finish(new Error(`smtpd exited while waiting for ${what}\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(`timed out after ${ms} ms waiting for ${what}\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`),
          ),
        ms,
      );
      waiters.add(poll);
      poll();
    });
  const stop = async () => {
    if (!hasExited) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await until(() => err.includes(READY), `smtpd to listen on port ${port}`, timeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    child,
    port,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (check, what, ms = 10_000) => until(() => check(out), what, ms),
    stop,
  };
}
