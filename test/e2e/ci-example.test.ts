/**
 * Runs the CI examples of the README (plain, and with scripted replies),
 * as written, with `npx smtpd-ts` bound to this checkout's source. It needs bash, curl and jq: skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/cli.js';
import { missingTools } from '../helpers/process.js';
import { readmeExample, writeNpxShim } from '../helpers/readme.js';

const exec = promisify(execFile);

/** Runs the README script after `<!-- marker` with `npx smtpd-ts` bound to this checkout; returns its output. */
async function runExample(marker: string): Promise<{ stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `smtpd-ts-${marker}-`));
  try {
    await writeNpxShim(dir);
    const script = path.join(dir, 'ci.sh');
    await writeFile(script, readmeExample(marker));
    return await exec('bash', [script], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
      timeout: 50_000,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('the README CI example passes as written', { timeout: 60_000 }, async (t) => {
  const absent = missingTools(['bash', 'curl', 'jq']);
  if (absent.length > 0) return t.skip(`needs ${absent.join(', ')} (apt-get install ${absent.join(' ')})`);
  const { stdout, stderr } = await runExample('ci-example');
  assert.match(stdout, /mail test passed/);
  assert.match(stderr, /listening on 127\.0\.0\.1:\d+/);
});

it('the README scripted-replies example (a 451, then a retry) passes as written', { timeout: 60_000 }, async (t) => {
  const absent = missingTools(['bash', 'curl', 'jq']);
  if (absent.length > 0) return t.skip(`needs ${absent.join(', ')} (apt-get install ${absent.join(' ')})`);
  const { stdout } = await runExample('rules-example');
  assert.match(stdout, /attempt 1 refused, retrying/);
  assert.match(stdout, /retry test passed/);
});
