/** Helpers for tests that run commands: bounded waits for exit, and optional tools. */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Resolves with the exit code of a started process (bounded: killed after `ms`). */
export async function exitCode(child: ChildProcess, ms = 15_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
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
