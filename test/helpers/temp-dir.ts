/** A temporary directory per describe(), made before its tests and removed after them. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

/**
 * Registers before/after hooks in the calling describe(); `path` is set once
 * the before hook has run (hooks run in the order registered, so later
 * before hooks of the same describe can use it).
 */
export function tempDir(name: string): { readonly path: string; join(...parts: string[]): string } {
  const dir = {
    path: '',
    join: (...parts: string[]) => path.join(dir.path, ...parts),
  };
  before(async () => {
    dir.path = await mkdtemp(path.join(os.tmpdir(), `smtpd-ts-${name}-`));
  });
  after(async () => {
    if (dir.path) await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}
