/**
 * Run files and signals through the real CLI: however the sink ends (a
 * second signal, SIGHUP, SIGQUIT, a start that fails after dropping
 * privileges), no ready or pid file claims a sink that is gone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { exitStatus } from '../helpers/process.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = process.getuid?.() === 0;

/** The sink as `nobody`, with its run files in `dir`. */
const asNobody = (dir: string) => [
  '--user',
  'nobody',
  '--ready-file',
  `${dir}/ready`,
  '--pid-file',
  `${dir}/pid`,
  '127.0.0.1:0',
];

describe('run files', () => {
  const tmp = tempDir('run-files');

  for (const [name, signals, code] of [
    ['SIGHUP', ['SIGHUP'], 0],
    ['SIGQUIT', ['SIGQUIT'], 128 + 3],
    ['a second SIGTERM while a transaction is open', ['SIGTERM', 'SIGTERM'], 128 + 15],
    ['a second SIGINT while a transaction is open', ['SIGINT', 'SIGINT'], 128 + 2],
  ] as const) {
    it(`are removed on ${name}`, { timeout: 30_000 }, async () => {
      const ready = tmp.join(`${signals.join('-')}.ready`);
      const pid = tmp.join(`${signals.join('-')}.pid`);
      const cli = await startCli(['127.0.0.1:0', '--ready-file', ready, '--pid-file', pid]);
      assert.ok(existsSync(ready) && existsSync(pid));
      // A transaction in flight keeps a graceful exit waiting: the second signal must not.
      const client = await SmtpClient.connect(cli.port);
      await client.read();
      await client.command('HELO x');
      await client.command('MAIL FROM:<a@b.test>');
      for (const [i, s] of signals.entries()) {
        // Signals sent together are coalesced: the second goes once the first was taken.
        for (let waited = 0; i > 0 && !cli.stderr().includes('finishing transactions') && waited < 5000; waited += 20)
          await new Promise((r) => setTimeout(r, 20));
        cli.child.kill(s);
      }
      const status = await exitStatus(cli.child);
      client.close();
      assert.equal(status.code, code, cli.stderr());
      assert.ok(!existsSync(ready) && !existsSync(pid), 'a run file was left behind');
    });
  }

  it(
    'are written as the user the sink runs as, or the start fails saying so, leaving nothing',
    { skip: !root && 'needs root to drop privileges', timeout: 30_000 },
    async () => {
      const rootOnly = tmp.join('root-only');
      mkdirSync(rootOnly, { mode: 0o700 });
      const child = spawn(process.execPath, [...NODE_ARGS, ...asNobody(rootOnly)], { cwd: ROOT });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const { code } = await exitStatus(child);
      assert.equal(code, 1);
      assert.match(
        err,
        new RegExp(
          `^smtpd-ts: cannot write --pid-file ${rootOnly}/pid as uid \\d+: permission denied \\(EACCES\\)\\n$`,
        ),
      );
      assert.ok(!existsSync(`${rootOnly}/ready`) && !existsSync(`${rootOnly}/pid`));
      // In a folder the user can write, SIGTERM removes them and exits 0.
      const shared = tmp.join('shared');
      chmodSync(tmp.path, 0o711); // nobody may pass through the test's own folder
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const cli = await startCli(asNobody(shared));
      assert.ok(existsSync(`${shared}/ready`));
      const status = await cli.stop('SIGTERM');
      assert.equal(status.code, 0, cli.stderr());
      assert.ok(!existsSync(`${shared}/ready`) && !existsSync(`${shared}/pid`));
    },
  );

  it(
    'refuses /dev/stdout beside stdout: one file written twice',
    { skip: process.platform !== 'linux' && 'needs /dev/stdout', timeout: 15_000 },
    async () => {
      // Stdout on a file, as `smtpd-ts > log` has it (a socket, as spawn's pipes are, cannot be opened by name).
      const out = openSync(tmp.join('stdout.log'), 'a');
      const child = spawn(process.execPath, [...NODE_ARGS, '-o', '-', '-o', 'json:/dev/stdout', '127.0.0.1:0'], {
        cwd: ROOT,
        stdio: ['ignore', out, 'pipe'],
      });
      closeSync(out);
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const { code } = await exitStatus(child);
      assert.equal(code, 1);
      assert.equal(err, 'smtpd-ts: two outputs write to the same file: stdout and /dev/stdout\n');
    },
  );
});
