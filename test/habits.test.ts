/**
 * House habits that no linter rule covers: comments speak to an outside
 * reader, who cannot follow a reference to an issue number (the tracker
 * is not public).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

it('runs every test file: `npm test` starts each one the repository holds', async () => {
  const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { test: string } })
    .scripts.test;
  assert.equal(script, 'node test/run-all.mjs');
  const runner = pathToFileURL(path.join(ROOT, 'test', 'run-all.mjs')).href;
  const { testFiles } = (await import(runner)) as { testFiles: () => string[] };
  const tests = execFileSync('git', ['ls-files', '--', 'test'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.test.ts'));
  assert.ok(tests.length > 50);
  assert.deepEqual([...testFiles()].sort(), tests.sort());
});
