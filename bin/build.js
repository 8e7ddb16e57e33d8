#!/usr/bin/env node
// `npm run build`: compiles src/ (tsc) and bundles the web UI (esbuild) into
// a folder of its own, then swaps it in for dist/. dist/ is never missing
// or half-written: a sink or a test that runs from it while another process
// builds (the suite builds while test files run) keeps working.
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildSync } from 'esbuild';

const require = createRequire(import.meta.url);
// `--no-check`: emit without type checking (`npm run typecheck` does that): the build test's way.
const check = process.argv.includes('--no-check') ? ['--noCheck'] : [];
const next = `dist.next-${process.pid}`;
const old = `dist.old-${process.pid}`;

/** Puts `next` where dist/ is; a dist/ that another build swapped in meanwhile is moved aside first. */
function swapIn() {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync('dist', old);
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    try {
      renameSync(next, 'dist');
      return;
    } catch (err) {
      if (!['EEXIST', 'ENOTEMPTY'].includes(err.code) || attempt >= 5) throw err;
      rmSync(old, { recursive: true, force: true });
    }
  }
}

try {
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', next, ...check],
    {
      stdio: 'inherit',
    },
  );
  buildSync({
    entryPoints: ['src/web/main.tsx'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    outfile: `${next}/web/app.js`,
    logLevel: 'warning',
  });
  swapIn();
} catch (err) {
  // tsc has printed its errors; anything else is said in one line.
  if (err.status === undefined) process.stderr.write(`build: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(next, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}
