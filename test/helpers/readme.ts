/** Extracts the code block that follows a `<!-- name... -->` marker in README.md, so examples cannot rot. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

export function readmeExample(marker: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- ${marker}`);
  if (at < 0) throw new Error(`README.md has no <!-- ${marker} --> marker`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`no code block after the ${marker} marker`);
  return m[1]!;
}
