/**
 * House habits that no linter rule covers: comments speak to an outside
 * reader, who cannot follow a reference to an issue number (the tracker
 * is not public).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { ROOT } from './helpers/cli.js';

it('names no internal issue number in the code', () => {
  const tracked = execFileSync('git', ['ls-files', '--', 'src', 'test', 'bin'], { cwd: ROOT, encoding: 'utf8' }).split(
    '\n',
  );
  const code = tracked.filter((f) => /\.(ts|js|mjs)$/.test(f));
  assert.ok(code.length > 100, `only ${code.length} files: the listing is broken`);
  // git grep exits 1 when nothing matches.
  const grep = spawnSync('git', ['grep', '-nE', '\\b[Ii]ssue ?#?[0-9]+', '--', ...code], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(grep.stdout, '');
  assert.equal(grep.status, 1, grep.stderr);
});
