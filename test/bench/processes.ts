/**
 * Every child process the bench starts (servers, the load generator,
 * smtp-source) is registered here, so that an error, an exit or Ctrl-C kills
 * exactly those, by PID, and nothing else.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const running = new Map<number, ChildProcess>();

/** Registers a freshly spawned child; it is forgotten when it exits. */
export function track(child: ChildProcess): ChildProcess {
  const pid = child.pid;
  if (pid === undefined) return child; // spawn failed: 'error' follows, nothing to kill
  running.set(pid, child);
  child.once('exit', () => running.delete(pid));
  return child;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops one child: `signal` first, SIGKILL if it is still there after
 * `graceMs`. Resolves once it has exited.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), graceMs)));
  const first = await Promise.race([exited.then(() => 'exited' as const), expired]);
  clearTimeout(timer);
  if (first === 'expired' && !hasExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Kills every registered child at once (SIGKILL, synchronous): for exits and signals. */
export function killAllNow(): void {
  for (const [pid, child] of running) {
    if (!hasExited(child)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.clear();
}

/** PIDs still registered (for tests and the final check). */
export function runningPids(): number[] {
  return [...running.keys()];
}
