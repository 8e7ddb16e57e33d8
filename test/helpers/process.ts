/** Helpers for tests that run commands: waits for exit, and optional tools. */
import { execFileSync, type ChildProcess } from 'node:child_process';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves with how a started process ended (at once when it already has); unbounded, see `exitStatus`. */
export function exited(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves with how a started process ended (bounded: killed after `ms`). */
export async function exitStatus(child: ChildProcess, ms = 15_000): Promise<ExitStatus> {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    return await exited(child);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the exit code of a started process (bounded: killed after `ms`). */
export async function exitCode(child: ChildProcess, ms = 15_000): Promise<number | null> {
  return (await exitStatus(child, ms)).code;
}

/** The tools of `tools` that are not on the PATH. */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}
