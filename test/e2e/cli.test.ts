/**
 * The real CLI as a process: flags, exit codes, the listening line, the
 * protocol trace, and shutdown on signals with nothing accepted lost.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { toConfig } from '../../src/cli/config.js';
import { SMTPServer } from '../../src/server/server.js';
import { VERSION } from '../../src/version.js';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { SmtpClient, sendMail } from '../helpers/smtp-client.js';
import { UsageError } from '../../src/errors.js';
import { until } from '../helpers/until.js';

const exec = promisify(execFile);

/** Runs the CLI to completion; resolves with its exit code and output. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('flags and exit codes', () => {
  it('prints the version with -V and --version', async () => {
    for (const flag of ['-V', '--version']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), VERSION);
    }
  });

  it('prints help naming every smtpd flag with -h', async () => {
    const r = await runCli(['-h']);
    assert.equal(r.code, 0);
    const groups = [
      'Output:',
      'Server:',
      'CI and scripts:',
      'Limits and timeouts:',
      'TLS and AUTH:',
      'SMTP extensions:',
    ];
    for (const heading of [...groups, 'Relaying:', 'Testing the sender:', 'Commands:'])
      assert.match(r.stdout, new RegExp(`^${heading}$`, 'm'), `the ${heading} group`);
    for (const flag of ['--nosetuid', '--version', '--class', '--size', '--debug', '--smtputf8', '--help'])
      assert.ok(r.stdout.includes(flag), flag);
  });

  const bad: [string[], RegExp][] = [
    [['--bogus'], /unknown option '--bogus'/],
    [['-s', 'lots'], /-s\/--size needs a size in bytes .* not 'lots'/],
    [['-s', '-5'], /-s\/--size needs a size/],
    [['-s', '10XB'], /or with a unit: 10MB, 10MiB, 512k; not '10XB'/],
    [['-c', 'NoSuchServer'], /NoSuchServer/],
    [['-c', 'Debugingserver'], /unknown class 'Debugingserver' \(did you mean DebuggingServer\?\)/],
    [['-c', 'MailmanProxy'], /MailmanProxy is not provided: .* use --deliver 'PATTERN=COMMAND'/],
    [['--formt', 'json'], /unknown option '--formt' \(did you mean --format\?\)/],
    [['wiat'], /unknown command 'wiat' \(did you mean wait\?\)/],
    [['--color', '--no-color'], /--color and --no-color contradict each other/],
    [
      ['--auth-file', '/nonexistent/users', '127.0.0.1:0'],
      /cannot read --auth-file \/nonexistent\/users: no such file/,
    ],
    [['--tls-cert', '/nonexistent/c', '--tls-key', '/nonexistent/k', '127.0.0.1:0'], /cannot read --tls-(cert|key)/],
    [['--rules', '/nonexistent/rules'], /cannot read --rules \/nonexistent\/rules: no such file/],
    [['localhost'], /bad local address 'localhost'/],
    [['localhost:99999'], /bad local port/],
    [['127.0.0.1:0', 'upstream'], /bad remote address/],
    [['127.0.0.1:0', 'a:1', 'extra'], /too many arguments/],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')} with one line on stderr and exit 2`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it('takes -s with a unit: 1k is 1024 bytes, advertised and enforced', async () => {
    const cli = await startCli(['-s', '1k', '127.0.0.1:0']);
    try {
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      assert.ok((await c.command('EHLO units.test')).lines.includes('SIZE 1024'));
      c.close();
      const body = (n: number) => `Subject: s\r\n\r\n${'x'.repeat(n)}`;
      assert.equal((await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: body(900) }))[5], 250);
      assert.equal((await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: body(1100) }))[5], 552);
    } finally {
      await cli.stop();
    }
  });

  it('exits 1 with one clear line when the address is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli([`127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `smtpd-ts: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('toConfig', () => {
  it("defaults to DebuggingServer on 127.0.0.1:1025 with smtpd's size limit", () => {
    const c = toConfig({ class: 'DebuggingServer' }, []);
    assert.deepEqual(c.local, { host: '127.0.0.1', port: 1025 });
    assert.deepEqual(c.remote, { host: 'localhost', port: 25 });
    assert.equal(c.smtp.dataSizeLimit, undefined, 'left to the channel, which applies the default once');
    assert.equal(new SMTPServer(c.local, null, c.smtp).channelConfig.dataSizeLimit, 33554432);
    assert.equal(toConfig({ class: 'DebuggingServer', size: '0' }, []).smtp.dataSizeLimit, 0);
    assert.equal(c.setuid, true);
  });

  it('reads IPv6 addresses in brackets and an empty host as every interface', () => {
    assert.deepEqual(toConfig({ class: 'DebuggingServer' }, ['[::1]:0']).local, { host: '::1', port: 0 });
    assert.deepEqual(toConfig({ class: 'DebuggingServer' }, [':2525']).local, { host: '0.0.0.0', port: 2525 });
  });

  it('throws UsageError for bad values', () => {
    assert.throws(() => toConfig({ class: 'DebuggingServer', size: '1e3' }, []), UsageError);
    assert.throws(() => toConfig({ class: 'PureProxyX' }, []), UsageError);
  });
});

describe('running', () => {
  it('listens on the real port for port 0 and prints each message before its 250', async () => {
    const cli = await startCli(['127.0.0.1:0']);
    try {
      assert.match(cli.stderr(), new RegExp(`DebuggingServer listening on 127\\.0\\.0\\.1:${cli.port} \\(SMTP\\)\\n`));
      const codes = await sendMail(cli.port, {
        from: 'a@example.test',
        to: ['b@example.test'],
        data: 'Subject: one\r\n\r\nbody',
      });
      assert.deepEqual(codes, [220, 250, 250, 250, 354, 250, 221]);
      // The 250 came after the printing, so the text is already there.
      assert.match(cli.stdout(), /Subject: one\nX-Peer: 127\.0\.0\.1\n\nbody\n------------ END MESSAGE ------------\n/);
    } finally {
      await cli.stop();
    }
  });

  it('listens on IPv6 loopback', async (t) => {
    const probe = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => resolve(true));
    });
    probe.close();
    if (!ok) return t.skip('no IPv6 loopback on this machine');
    const cli = await startCli(['[::1]:0']);
    try {
      assert.match(cli.stderr(), /listening on \[::1\]:\d+/);
      const c = await SmtpClient.connect(cli.port, '::1');
      assert.equal((await c.read()).code, 220);
      c.close();
    } finally {
      await cli.stop();
    }
  });

  it('warns who can send to it when it listens beyond loopback', async () => {
    const cli = await startCli(['0.0.0.0:0']);
    try {
      assert.match(cli.stderr(), /warning: listening on 0\.0\.0\.0: anyone who can reach this address can send to it/);
      // The test itself still only talks to loopback.
      const c = await SmtpClient.connect(cli.port, '127.0.0.1');
      assert.equal((await c.read()).code, 220);
      c.close();
    } finally {
      await cli.stop();
    }
    const quiet = await startCli(['127.0.0.1:0']);
    try {
      assert.doesNotMatch(quiet.stderr(), /warning/);
    } finally {
      await quiet.stop();
    }
  });

  it('prints a protocol trace on stderr with -d', async () => {
    const cli = await startCli(['-d', '127.0.0.1:0']);
    try {
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      await c.command('EHLO tracer.test');
      await c.command('QUIT');
      await c.waitClosed();
      const err = cli.stderr();
      assert.match(err, /127\.0\.0\.1:\d+ connected/);
      assert.match(err, /<<< EHLO tracer\.test/);
      assert.match(err, />>> 250-PIPELINING/);
      assert.match(err, />>> 221 Bye/);
      // Each line carries its time (UTC, ms); the session ends with how it ended.
      assert.match(err, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ <<< EHLO tracer\.test$/m);
      await until(() => cli.stderr().includes('disconnected'), 5000, 'the disconnect line');
      assert.match(cli.stderr(), /Z 127\.0\.0\.1:\d+ disconnected \(quit\)$/m);
      assert.equal(cli.stdout(), '');
    } finally {
      await cli.stop();
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits 0 on ${signal}, finishing a message in DATA and answering idle clients 421`, async () => {
      const cli = await startCli(['127.0.0.1:0']);
      const idle = await SmtpClient.connect(cli.port);
      await idle.read();
      const busy = await SmtpClient.connect(cli.port);
      await busy.read();
      await busy.command('HELO x');
      await busy.command('MAIL FROM:<a@x>');
      await busy.command('RCPT TO:<b@x>');
      await busy.command('DATA');
      busy.write('Subject: in flight\r\n\r\npart one\r\n');
      const stopped = cli.stop(signal);
      assert.equal((await idle.read()).code, 421);
      busy.write('part two\r\n.\r\n');
      assert.equal((await busy.read()).code, 250);
      assert.equal((await busy.read()).code, 421);
      assert.deepEqual(await stopped, { code: 0, signal: null });
      assert.match(cli.stdout(), /part one\npart two\n------------ END MESSAGE/);
      idle.close();
      busy.close();
    });
  }
});
