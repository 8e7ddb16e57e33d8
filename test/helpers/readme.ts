/** Extracts the code block that follows a `<!-- name... -->` marker in README.md, so examples cannot rot. */
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, RUN } from './cli.js';

export function readmeExample(marker: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- ${marker}`);
  if (at < 0) throw new Error(`README.md has no <!-- ${marker} --> marker`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`no code block after the ${marker} marker`);
  return m[1]!;
}

/**
 * Writes an `npx` shim into `dir` that runs this checkout's CLI from source
 * for `npx smtpd-ts ARGS`, so README scripts run as written with `dir` first
 * on the PATH.
 */
export async function writeNpxShim(dir: string): Promise<void> {
  const shim = path.join(dir, 'npx');
  await writeFile(
    shim,
    `#!/bin/sh\n[ "$1" = smtpd-ts ] && shift\nexec "${process.execPath}" --import tsx "${RUN}" "$@"\n`,
  );
  await chmod(shim, 0o755);
}
