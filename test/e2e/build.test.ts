/**
 * `npm run build` (bin/build.js) builds beside dist/ and swaps the result
 * in: a sink or a test file that runs from dist/ while a build runs (the
 * suite's package test may build while other files run) never finds it
 * missing or half-written.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildProblem, ROOT } from '../helpers/cli.js';

describe('npm run build', { timeout: 120_000 }, () => {
  it('never leaves dist/ missing while it builds, and leaves nothing beside it', async () => {
    const watched = ['dist/cli/run.js', 'dist/index.js', 'dist/web/app.js'].map((f) => path.join(ROOT, f));
    assert.ok(
      watched.every((f) => existsSync(f)),
      'dist/ is built before this test (npm test builds first)',
    );
    // Without type checking (npm run typecheck does it): what is tested is where the build lands.
    const build = spawn(process.execPath, ['bin/build.js', '--no-check'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    build.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let looks = 0;
    const missing = new Set<string>();
    const watcher = setInterval(() => {
      looks++;
      for (const f of watched) if (!existsSync(f)) missing.add(path.relative(ROOT, f));
    }, 2);
    const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
    clearInterval(watcher);
    assert.equal(code, 0, stderr);
    assert.ok(looks > 50, `dist/ was looked at ${looks} times during the build`);
    assert.deepEqual([...missing], [], 'files missing at some point during the build');
    assert.deepEqual(
      readdirSync(ROOT).filter((f) => f.startsWith('dist.')),
      [],
      'no build folder left beside dist/',
    );
    assert.equal(buildProblem(), undefined, 'dist/ is fresh');
  });
});
