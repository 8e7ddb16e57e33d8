/**
 * The package as a user gets it: `npm pack`, install the tarball into an
 * empty project, and run the bin from there, with no TypeScript tooling in
 * the way (the tarball ships compiled JavaScript in dist/).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildProblem, ROOT } from '../helpers/cli.js';
import { readmeExample } from '../helpers/readme.js';
import { tempDir } from '../helpers/temp-dir.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the packed tarball', { timeout: 240_000 }, () => {
  const tmp = tempDir('pack');
  let project = '';
  let packed = '';

  before(async () => {
    const dir = tmp.path;
    // `npm test` has just built dist/ (pretest); packing without scripts keeps it in place for the
    // other test files that run the build meanwhile. Run by hand after an edit, this file builds first.
    if (buildProblem() !== undefined) await run(npm, ['run', 'build'], { cwd: ROOT, maxBuffer: 1 << 24 });
    const { stdout } = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      maxBuffer: 1 << 24,
    });
    const [info] = JSON.parse(stdout) as { filename: string }[];
    packed = path.join(dir, info!.filename);
    project = path.join(dir, 'project');
    await run('mkdir', ['-p', project]);
    await writeFile(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module' }),
    );
    // --prefer-offline: the dependencies are already in npm's cache after `npm ci`.
    // nodemailer is the README example's mail client (a devDependency of ours).
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const nodemailer = `nodemailer@${lock.packages['node_modules/nodemailer']!.version}`;
    await run(npm, ['install', '-D', '--prefer-offline', '--no-audit', '--no-fund', packed, nodemailer], {
      cwd: project,
      maxBuffer: 1 << 24,
    });
  });

  it('contains compiled JavaScript and no TypeScript sources or tests', async () => {
    const installed = path.join(project, 'node_modules', 'smtpd-ts');
    const pkg = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { version: string };
    assert.ok(pkg.version);
    await readFile(path.join(installed, 'dist', 'cli', 'cli.js'));
    await assert.rejects(readFile(path.join(installed, 'src', 'cli', 'cli.ts')));
    await assert.rejects(readFile(path.join(installed, 'test', 'e2e', 'package.test.ts')));
  });

  it('runs `smtpd-ts --version` from the installed bin', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(path.join(project, 'node_modules', '.bin', 'smtpd-ts'), ['--version'], {
      cwd: project,
    });
    assert.equal(stdout.trim(), version);
  });

  it('serves the web UI from the installed package (the bundle ships in dist/web)', async () => {
    const bin = path.join(project, 'node_modules', '.bin', 'smtpd-ts');
    const child = spawn(bin, ['-n', '--http', '127.0.0.1:0', '127.0.0.1:0'], {
      cwd: project,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      await until(() => /inbox over HTTP on http:\/\/\S+\//.test(err), 10_000, 'the inbox line');
      const url = /inbox over HTTP on (http:\/\/\S+)\//.exec(err)![1]!;
      assert.match(await (await fetch(`${url}/`)).text(), /src="assets\/app.js"/);
      const app = await fetch(`${url}/assets/app.js`);
      assert.equal(app.status, 200);
      assert.ok((await app.text()).length > 10_000);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('imports as ESM with type declarations, without loading mailparser or chalk', async () => {
    const installed = path.join(project, 'node_modules', 'smtpd-ts');
    await readFile(path.join(installed, 'dist', 'index.d.ts'));
    // A loader hook that refuses the heavy modules: importing must not need them.
    const hook = `export async function resolve(s, c, next) { if (s === 'mailparser' || s === 'chalk') throw new Error('loaded ' + s); return next(s, c); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const code = `const m = await import('smtpd-ts'); console.log(Object.keys(m).sort().join(' '));`;
    const { stdout } = await run(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', code],
      {
        cwd: project,
      },
    );
    for (const name of ['startSink', 'SMTPServer', 'DebuggingServer', 'SMTPChannel', 'printRaw', 'SinkTimeoutError']) {
      assert.ok(
        stdout
          .split(' ')
          .map((s) => s.trim())
          .includes(name),
        `exports ${name}: ${stdout}`,
      );
    }
  });

  it("the README's install lines name this version's tarball, which is what this test installed", async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const lines = readmeExample('install').trim().split('\n');
    const tarball = `smtpd-ts-${version}.tgz`;
    assert.match(lines[0]!, new RegExp(`^npm pack\\s+# in the clone: writes ${tarball.replaceAll('.', '\\.')}`));
    assert.match(lines[1]!, new RegExp(`^npm i -D \\S+/${tarball.replaceAll('.', '\\.')}\\s`));
    assert.match(lines[2]!, new RegExp(`^npm i -g \\S+/${tarball.replaceAll('.', '\\.')}\\s`));
    assert.equal(path.basename(packed), tarball);
    // npm records what `npm i -D TARBALL` installed as a file: devDependency.
    const pkg = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.match(pkg.devDependencies['smtpd-ts']!, /^file:.*\.tgz$/);
    // `npm i -g TARBALL`, into a prefix of the test's own: `smtpd-ts` in its bin/ runs.
    const prefix = path.join(tmp.path, 'global');
    await run(npm, ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', packed], {
      maxBuffer: 1 << 24,
    });
    const { stdout } = await run(path.join(prefix, 'bin', 'smtpd-ts'), ['--version']);
    assert.equal(stdout.trim(), version);
  });

  it('loads with require() from a CommonJS file, the same exports as import', async () => {
    const file = path.join(project, 'consumer.cjs');
    await writeFile(
      file,
      `const m = require('smtpd-ts');\n` +
        `import('smtpd-ts').then((e) => console.log(typeof m.startSink, m.startSink === e.startSink, Object.keys(m).length === Object.keys(e).length));\n`,
    );
    const { stdout, stderr } = await run(process.execPath, [file], { cwd: project, timeout: 60_000 });
    assert.equal(stdout, 'function true true\n');
    assert.doesNotMatch(stderr, /Error/);
  });

  it("runs the README's Node snippet against the installed package", async () => {
    const file = path.join(project, 'welcome.mjs');
    await writeFile(file, readmeExample('node-snippet'));
    const { stdout } = await run(process.execPath, [file], { cwd: project, timeout: 60_000 });
    assert.equal(stdout, "Welcome [ 'user@example.test' ]\n");
  });

  it('runs the documented node:test example against the installed package', async () => {
    const file = path.join(project, 'mail.test.mjs');
    await writeFile(file, readmeExample('node-test-example'));
    // Without NODE_TEST_CONTEXT, the inner runner reports as a top-level run would.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', file], {
      cwd: project,
      env,
      timeout: 60_000,
    });
    assert.match(stdout, /# pass 1/);
    assert.match(stdout, /# fail 0/);
  });
});
