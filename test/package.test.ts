/**
 * The package as a user gets it: `npm pack`, install the tarball into an
 * empty project, and run the bin from there, with no TypeScript tooling in
 * the way (the tarball ships compiled JavaScript in dist/).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/cli.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the packed tarball', { timeout: 240_000 }, () => {
  let dir = '';
  let project = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-pack-'));
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 24 });
    const [info] = JSON.parse(stdout) as { filename: string }[];
    project = path.join(dir, 'project');
    await run('mkdir', ['-p', project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module' }));
    // --prefer-offline: the dependencies are already in npm's cache after `npm ci`.
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, info!.filename)], {
      cwd: project,
      maxBuffer: 1 << 24,
    });
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('contains compiled JavaScript and no TypeScript sources or tests', async () => {
    const installed = path.join(project, 'node_modules', 'smtpd-ts');
    const pkg = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { version: string };
    assert.ok(pkg.version);
    await readFile(path.join(installed, 'dist', 'cli.js'));
    await assert.rejects(readFile(path.join(installed, 'src', 'cli.ts')));
    await assert.rejects(readFile(path.join(installed, 'test', 'package.test.ts')));
  });

  it('runs `smtpd-ts --version` from the installed bin', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(path.join(project, 'node_modules', '.bin', 'smtpd-ts'), ['--version'], { cwd: project });
    assert.equal(stdout.trim(), version);
  });
});
