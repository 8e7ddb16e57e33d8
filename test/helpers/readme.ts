/**
 * Extracts the code block that follows a `<!-- name... -->` marker in
 * README.md or a page of docs/, so examples cannot rot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, RUN } from './cli.js';

export function readmeExample(marker: string): string {
  const pages = [
    'README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join('docs', f)),
  ];
  const found = pages.map((p) => readFileSync(path.join(ROOT, p), 'utf8')).filter((t) => t.includes(`<!-- ${marker}`));
  if (found.length !== 1) throw new Error(`${found.length} pages have a <!-- ${marker} --> marker, not one`);
  const text = found[0]!;
  const at = text.indexOf(`<!-- ${marker}`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(at));
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
