/**
 * CI mode through the real CLI: --exit-after, --timeout, --ready-file,
 * --pid-file, the exit code of every outcome, the limit flags, and
 * privilege dropping (where the test runs as root).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { exitCode } from '../helpers/process.js';
import { SmtpClient, sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const MAIL = { from: 'a@example.test', to: ['b@example.test'], data: 'Subject: ci\r\n\r\nbody' };

describe('CI mode', () => {
  const dir = tempDir('ci-mode');

  it('exits 0 after --exit-after messages, with every one written, and removes its run files', async () => {
    const ready = dir.join('ready');
    const pid = dir.join('pid');
    const cli = await startCli(['--exit-after', '2', '--ready-file', ready, '--pid-file', pid, '127.0.0.1:0']);
    assert.equal(readFileSync(ready, 'utf8'), `127.0.0.1:${cli.port}\n`);
    assert.equal(readFileSync(pid, 'utf8'), `${cli.child.pid}\n`);
    assert.deepEqual(await sendMail(cli.port, MAIL), [220, 250, 250, 250, 354, 250, 221]);
    assert.equal(cli.child.exitCode, null, 'still running after one message');
    assert.deepEqual((await sendMail(cli.port, MAIL)).slice(0, 6), [220, 250, 250, 250, 354, 250]);
    assert.equal(await exitCode(cli.child), 0);
    assert.equal(cli.stdout().split('---------- MESSAGE FOLLOWS ----------').length - 1, 2);
    assert.equal(existsSync(ready), false);
    assert.equal(existsSync(pid), false);
  });

  it('exits 3 on --timeout, saying how many of the expected messages arrived', async () => {
    const cli = await startCli(['--exit-after', '2', '--timeout', '1', '127.0.0.1:0']);
    await sendMail(cli.port, MAIL);
    assert.equal(await exitCode(cli.child), 3);
    assert.match(cli.stderr(), /timeout: 1 s passed; 1 of 2 messages arrived/);
  });

  it('exits 3 on --timeout without --exit-after too: the run never finished', async () => {
    const cli = await startCli(['--timeout', '0.3', '127.0.0.1:0']);
    assert.equal(await exitCode(cli.child), 3);
    assert.match(cli.stderr(), /0 message\(s\) arrived/);
  });

  it('exits 0 on SIGTERM before --exit-after was reached', async () => {
    const cli = await startCli(['--exit-after', '5', '127.0.0.1:0']);
    assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('exits 1 with one line when the ready file cannot be written', async () => {
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, '--ready-file', dir.join('no', 'such', 'dir', 'ready'), '127.0.0.1:0'],
      { cwd: ROOT },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    assert.equal(await exitCode(child), 1);
    assert.match(
      err,
      /^smtpd-ts: cannot write --ready-file .*\/no\/such\/dir\/ready: the folder .*\/no\/such\/dir does not exist\n$/,
    );
  });

  for (const [args, message] of [
    [['--exit-after', '0'], /--exit-after needs a whole number from 1/],
    [['--exit-after', 'x'], /--exit-after needs a whole number/],
    [['--timeout', 'soon'], /--timeout needs a number of seconds/],
    [['--timeout', '0'], /--timeout needs a number of seconds above 0/],
    [['--max-recipients', '-1'], /--max-recipients needs a whole number/],
    [['--bare-lf', 'maybe'], /--bare-lf takes accept or reject/],
    [['--ready-file', ''], /--ready-file needs a path/],
    [['--user', 'x', '-n'], /contradict/],
  ] as [string[], RegExp][]) {
    it(`refuses ${args.join(' ')} with exit 2`, async () => {
      const child = spawn(process.execPath, [...NODE_ARGS, ...args, '127.0.0.1:0'], { cwd: ROOT });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      assert.equal(await exitCode(child), 2);
      assert.match(err, message);
    });
  }
});

describe('limit flags', () => {
  it('apply --max-recipients, --max-messages-per-connection and --bare-lf reject', async () => {
    const cli = await startCli([
      '--max-recipients',
      '1',
      '--max-messages-per-connection',
      '1',
      '--bare-lf',
      'reject',
      '127.0.0.1:0',
    ]);
    try {
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      await c.command('EHLO x');
      await c.command('MAIL FROM:<a@x>');
      await c.command('RCPT TO:<1@x>');
      assert.equal((await c.command('RCPT TO:<2@x>')).code, 452);
      await c.command('DATA');
      assert.equal((await c.command('bare\nline\r\n.')).code, 550);
      for (const l of ['MAIL FROM:<a@x>', 'RCPT TO:<1@x>', 'DATA']) await c.command(l);
      assert.equal((await c.command('fine\r\n.')).code, 250);
      assert.equal((await c.command('MAIL FROM:<a@x>')).code, 421);
      await c.waitClosed();
    } finally {
      await cli.stop();
    }
  });

  it('apply --max-connections and --command-timeout', async () => {
    const cli = await startCli(['--max-connections', '1', '--command-timeout', '0.3', '127.0.0.1:0']);
    try {
      const a = await SmtpClient.connect(cli.port);
      assert.equal((await a.read()).code, 220);
      const b = await SmtpClient.connect(cli.port);
      assert.equal((await b.read()).code, 421);
      const timedOut = await a.read(5000);
      assert.equal(timedOut.code, 421);
      assert.match(timedOut.lines[0]!, /timeout/);
    } finally {
      await cli.stop();
    }
  });
  it('apply --memory-budget: four 2 MiB messages at once past a 1 MiB budget all arrive whole, none refused', async () => {
    const cli = await startCli(['--memory-budget', '1MiB', '-f', 'json', '127.0.0.1:0']);
    try {
      const body = (tag: string) => `Subject: ${tag}\r\n\r\n${`${tag} ${'x'.repeat(70)}\r\n`.repeat(28_000)}`;
      const tags = ['a', 'b', 'c', 'd'];
      const codes = await Promise.all(
        tags.map((t) => sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: body(t) })),
      );
      for (const c of codes) assert.equal(c.at(-2), 250);
      await cli.waitForStdout((out) => out.trim().split('\n').length === 4);
      const records = cli
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { subject: string; size: number });
      assert.deepEqual(records.map((r) => r.subject).sort(), tags);
      for (const r of records) assert.equal(r.size, Buffer.byteLength(body(r.subject)) + 2);
    } finally {
      await cli.stop();
    }
  });
  it('apply --data-timeout to a silent DATA', async () => {
    const cli = await startCli(['--data-timeout', '0.3', '127.0.0.1:0']);
    try {
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      await c.enterData();
      c.write('Subject: half');
      assert.equal((await c.read(5000)).code, 421);
      await c.waitClosed();
    } finally {
      await cli.stop();
    }
  });

  it('apply --transaction-timeout to a transaction whose bytes keep coming', async () => {
    const cli = await startCli(['--transaction-timeout', '0.4', '127.0.0.1:0']);
    try {
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      await c.enterData();
      assert.equal((await c.drip()).code, 421);
      await c.waitClosed();
    } finally {
      await cli.stop();
    }
  });
});

describe('privileges', () => {
  const isRoot = process.getuid?.() === 0;
  const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  const nobody = () =>
    Number(
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('nobody:'))
        ?.split(':')[2],
    );

  it('stays root on an unprivileged port, and drops to nobody with --user nobody', async (t) => {
    if (!isRoot || !existsSync('/proc/self/status')) return t.skip('needs root and /proc');
    const stay = await startCli(['127.0.0.1:0']);
    try {
      assert.equal(uidOf(stay.child.pid!), 0);
    } finally {
      await stay.stop();
    }
    const drop = await startCli(['--user', 'nobody', '127.0.0.1:0']);
    try {
      assert.equal(uidOf(drop.child.pid!), nobody());
      assert.deepEqual((await sendMail(drop.port, MAIL)).slice(5, 6), [250]);
    } finally {
      await drop.stop();
    }
  });

  it('drops to nobody as root on a port below 1024, unless -n', async (t) => {
    if (!isRoot || !existsSync('/proc/self/status')) return t.skip('needs root and /proc');
    const port = await freePrivilegedPort();
    if (port === undefined) return t.skip('no free port below 1024');
    const dropped = await startCli([`127.0.0.1:${port}`]);
    try {
      assert.equal(uidOf(dropped.child.pid!), nobody());
    } finally {
      await dropped.stop();
    }
    const kept = await startCli(['-n', `127.0.0.1:${port}`]);
    try {
      assert.equal(uidOf(kept.child.pid!), 0);
    } finally {
      await kept.stop();
    }
  });
});

/** A port below 1024 that is free on 127.0.0.1 right now. */
async function freePrivilegedPort(): Promise<number | undefined> {
  for (let port = 1000; port < 1024; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  return undefined;
}
