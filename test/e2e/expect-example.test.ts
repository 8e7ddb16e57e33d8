/**
 * Runs the expectations CI example of the README, as written, with `npx
 * smtpd-ts` bound to this checkout's source; then the same script with an
 * expectation broken, which must fail with exit 4. Needs bash and curl:
 * skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/cli.js';
import { missingTools } from '../helpers/process.js';
import { readmeExample, writeNpxShim } from '../helpers/readme.js';
import { tempDir } from '../helpers/temp-dir.js';

const exec = promisify(execFile);

describe('the README expectations example', () => {
  const absent = missingTools(['bash', 'curl']);
  const tmp = tempDir('expect-example');
  let dir = '';

  before(async () => {
    dir = tmp.path;
    await writeNpxShim(dir);
  });

  /** Runs `script` with bash; resolves with its exit code and output. */
  async function runScript(name: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = path.join(dir, name);
    await writeFile(file, script);
    try {
      const { stdout, stderr } = await exec('bash', [file], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
        timeout: 50_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('passes as written', { timeout: 60_000 }, async (t) => {
    if (absent.length > 0) return t.skip(`needs ${absent.join(', ')} (apt-get install ${absent.join(' ')})`);
    const { code, stdout, stderr } = await runScript('pass.sh', readmeExample('expect-example'));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /mail test passed/);
    assert.match(stderr, /expectations: all 4 held \(2 messages accepted\)/);
  });

  it('fails with exit 4 when the mail is not as expected, naming the expectation', { timeout: 60_000 }, async (t) => {
    if (absent.length > 0) return t.skip(`needs ${absent.join(', ')} (apt-get install ${absent.join(' ')})`);
    const script = readmeExample('expect-example').replace(
      'for subject in Welcome Receipt',
      'for subject in Welcom Receipt',
    );
    const { code, stdout, stderr } = await runScript('fail.sh', script);
    assert.equal(code, 4);
    assert.match(
      stderr,
      /FAILED --expect 'subject=Welcome && rcptTo~@example\.test': none of 2 messages matched; nearest:\n {11}\d+\.1 from <app@example\.test> to <user@example\.test>: subject="Welcom"/,
    );
    assert.match(stdout, /Subject: Welcom\n/, 'the script shows the messages');
  });
});
