/**
 * The extension flags: pure flag -> settings checks, and the CLI as a
 * process with `--tls --auth-file --require-auth -d -f json`, driven by
 * Node's tls client.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { toConfig } from '../../src/cli/config.js';
import { toSmtpSettings } from '../../src/cli/smtp-settings.js';
import { SMTPServer } from '../../src/server/server.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NODE_ARGS, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testCredentials } from '../helpers/tls-credentials.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { UsageError } from '../../src/errors.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('extension flags', () => {
  it('default to CHUNKING and AUTH on, everything else off', () => {
    const config = toConfig({ class: 'DebuggingServer' }, []);
    // Flags not given are left out: the channel applies the defaults, once.
    assert.deepEqual(config.smtp, { timeouts: {} });
    assert.equal(config.tls, null);
    assert.deepEqual(config.auth, { file: null, required: false, insecure: false });
    const c = new SMTPServer(config.local, null, { ...config.smtp, auth: {} }).channelConfig;
    assert.deepEqual(
      [c.chunking, c.auth?.insecure, c.auth?.required, c.auth?.users, c.requireTls, c.starttls],
      [true, true, false, null, false, false],
    );
    assert.deepEqual(
      [c.binaryMime, c.enhancedStatusCodes, c.dsn, c.lmtp, c.smtputf8],
      [false, false, false, false, false],
    );
  });

  it('keep the names the server and the channel use', () => {
    const { smtp } = toSmtpSettings({
      size: '100',
      smtputf8: true,
      maxRecipients: '5',
      maxMessagesPerConnection: '2',
      bareLf: 'reject',
      commandTimeout: '1.5',
      binarymime: true,
      lmtp: true,
      memoryBudget: '8MiB',
    });
    assert.deepEqual(smtp, {
      dataSizeLimit: 100,
      bodyBudget: 8 * 1024 * 1024,
      smtputf8: true,
      maxRecipients: 5,
      maxMessagesPerConnection: 2,
      bareLf: 'reject',
      timeouts: { command: 1500 },
      binaryMime: true,
      lmtp: true,
    });
    const c = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, smtp).channelConfig;
    assert.deepEqual(
      [c.dataSizeLimit, c.smtputf8, c.maxRecipients, c.maxMessagesPerConnection, c.bareLf, c.binaryMime, c.lmtp],
      [100, true, 5, 2, 'reject', true, true],
    );
    assert.equal(new SMTPServer({ host: '127.0.0.1', port: 0 }, null, smtp).budget.limit, 8 * 1024 * 1024);
    assert.throws(() => toSmtpSettings({ memoryBudget: 'lots' }), /--memory-budget/);
  });

  it('read --tls, --tls-cert with --tls-key, and the switches', () => {
    assert.deepEqual(toSmtpSettings({ tls: true, tlsImplicit: true }).tls, { kind: 'self-signed' });
    assert.deepEqual(toSmtpSettings({ tlsCert: 'c.pem', tlsKey: 'k.pem', requireTls: true }).tls, {
      kind: 'files',
      cert: 'c.pem',
      key: 'k.pem',
    });
    const s = toSmtpSettings({
      auth: false,
      chunking: false,
      enhancedStatusCodes: true,
      dsn: true,
      lmtp: true,
      proxyProtocol: true,
    });
    assert.equal(s.auth, null);
    assert.equal(s.smtp.chunking, false);
    assert.ok(s.smtp.enhancedStatusCodes && s.smtp.dsn && s.smtp.lmtp && s.smtp.proxyProtocol);
  });

  it('refuse contradictions with a usage error', () => {
    for (const bad of [
      { tlsCert: 'c.pem' },
      { tlsKey: 'k.pem' },
      { tls: true, tlsCert: 'c.pem', tlsKey: 'k.pem' },
      { tlsImplicit: true },
      { requireTls: true },
      { auth: false, requireAuth: true },
      { auth: false, authFile: 'users' },
      { chunking: false, binarymime: true },
      { authFile: '' },
    ]) {
      assert.throws(() => toSmtpSettings(bad), UsageError, JSON.stringify(bad));
    }
  });
});

describe('the CLI with --tls --auth-file --require-auth', () => {
  const dir = tempDir('tls-cli');
  let cli: RunningCli;

  before(async () => {
    await writeFile(dir.join('users'), '# test users\nalice:s3cret-pw\n');
    cli = await startCli(
      ['--tls', '--auth-file', dir.join('users'), '--require-auth', '-d', '-f', 'json', '127.0.0.1:0'],
      20_000,
    );
  });
  after(async () => {
    await cli?.stop();
  });

  it("prints the generated certificate's fingerprint, and records TLS and the user but never the password", async () => {
    assert.match(cli.stderr(), /self-signed certificate .*SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      assert.equal((await c.command('STARTTLS')).code, 220);
      await c.startTls();
      await c.command('EHLO client.test');
      assert.equal((await c.command('MAIL FROM:<a@b>')).code, 530);
      assert.equal((await c.command(`AUTH PLAIN ${b64('\0alice\0wrong-pw')}`)).code, 535);
      assert.equal((await c.command('AUTH LOGIN')).code, 334);
      assert.equal((await c.command(b64('alice'))).code, 334);
      assert.equal((await c.command(b64('s3cret-pw'))).code, 235);
      for (const line of ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA']) await c.command(line);
      assert.equal((await c.command('Subject: cli tls\r\n\r\nhi\r\n.')).code, 250);
    } finally {
      c.close();
    }
    await cli.waitForStdout('cli tls');
    const record = JSON.parse(cli.stdout().trim().split('\n')[0]!) as { tls: { protocol: string }; authUser: string };
    assert.match(record.tls.protocol, /^TLSv1\.[23]$/);
    assert.equal(record.authUser, 'alice');
    const everything = cli.stdout() + cli.stderr();
    for (const secret of ['s3cret-pw', b64('s3cret-pw'), 'wrong-pw', b64('\0alice\0wrong-pw')])
      assert.ok(!everything.includes(secret), `${secret} leaked`);
    assert.match(cli.stderr(), /TLS established: TLSv1\.[23]/);
  });
});

describe('the CLI with --tls-cert, --tls-key and --tls-implicit', () => {
  const dir = tempDir('tls-files');
  let cli: RunningCli | undefined;

  before(async () => {
    const c = await testCredentials();
    await writeFile(dir.join('cert.pem'), c.cert);
    await writeFile(dir.join('key.pem'), c.key);
    await writeFile(dir.join('bad.pem'), 'not a certificate\n');
  });
  after(async () => {
    await cli?.stop();
  });

  it('serves SMTPS with the given certificate, and prints its fingerprint', async () => {
    cli = await startCli([
      '--tls-cert',
      dir.join('cert.pem'),
      '--tls-key',
      dir.join('key.pem'),
      '--tls-implicit',
      '127.0.0.1:0',
    ]);
    assert.match(
      cli.stderr(),
      new RegExp(`certificate: SHA-256 fingerprint ${(await testCredentials()).fingerprint256}`),
    );
    const c = await SmtpClient.connectTls(cli.port);
    try {
      assert.equal((await c.read()).code, 220);
      assert.equal((await c.command('EHLO client.test')).code, 250);
    } finally {
      c.close();
    }
  });

  it('exits 2 with one line when the certificate cannot be used (a bad file a flag names)', async () => {
    const run = promisify(execFile);
    const args = [...NODE_ARGS, '--tls-cert', dir.join('bad.pem'), '--tls-key', dir.join('key.pem'), '127.0.0.1:0'];
    const err = await run(process.execPath, args, { cwd: ROOT, timeout: 20_000 }).then(
      () => assert.fail('started with a bad certificate'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 2);
    assert.match(err.stderr, /^smtpd-ts: bad TLS certificate or key: .+\n$/);
  });
});

describe('the CLI with --enhanced-status-codes --dsn', () => {
  let cli: RunningCli;

  before(async () => {
    cli = await startCli(['--enhanced-status-codes', '--dsn', '-f', 'json', '127.0.0.1:0']);
  });
  after(async () => {
    await cli?.stop();
  });

  it('advertises both, prefixes every reply with its enhanced code, and records the DSN parameters', async () => {
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      const ehlo = await c.command('EHLO client.test');
      assert.ok(ehlo.lines.includes('ENHANCEDSTATUSCODES'), ehlo.lines.join('\n'));
      assert.ok(ehlo.lines.includes('DSN'), ehlo.lines.join('\n'));
      assert.equal((await c.command('MAIL FROM:<a@b> RET=ALL')).code, 501);
      const mail = await c.command('MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1');
      assert.equal(mail.code, 250);
      assert.match(mail.lines[0]!, /^2\.\d{1,3}\.\d{1,3} /);
      assert.equal((await c.command('RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d')).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      const done = await c.command('Subject: dsn\r\n\r\nhi\r\n.');
      assert.equal(done.code, 250);
      assert.match(done.lines[0]!, /^2\.\d{1,3}\.\d{1,3} /);
      const unknown = await c.command('FOO');
      assert.equal(unknown.code, 500);
      assert.match(unknown.lines[0]!, /^5\.\d{1,3}\.\d{1,3} /);
      await c.command('QUIT');
    } finally {
      c.close();
    }
    await cli.waitForStdout('\n');
    const record = JSON.parse(cli.stdout().trim().split('\n')[0]!) as { mailOptions: string[]; rcptOptions: string[] };
    assert.deepEqual(record.mailOptions, ['RET=HDRS', 'ENVID=QQ+2B1']);
    assert.deepEqual(record.rcptOptions, ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=RFC822;C@D']);
  });
});

describe('the CLI with --lmtp', () => {
  let cli: RunningCli;

  before(async () => {
    cli = await startCli(['--lmtp', '-f', 'json', '127.0.0.1:0']);
  });
  after(async () => {
    await cli?.stop();
  });

  it('greets with LHLO only, and answers once per recipient after the data', async () => {
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      assert.equal((await c.command('EHLO client.test')).code, 500);
      assert.equal((await c.command('LHLO client.test')).code, 250);
      for (const line of ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'RCPT TO:<e@f>'])
        assert.equal((await c.command(line)).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      assert.equal((await c.command('Subject: lmtp\r\n\r\nhi\r\n.')).code, 250);
      assert.equal((await c.read()).code, 250);
      assert.equal((await c.command('QUIT')).code, 221);
    } finally {
      c.close();
    }
    await cli.waitForStdout('\n');
    const record = JSON.parse(cli.stdout().trim().split('\n')[0]!) as { rcptTo: string[] };
    assert.deepEqual(record.rcptTo, ['c@d', 'e@f']);
  });
});

describe('the CLI with --tls --require-tls --binarymime, and with --no-chunking --no-auth', () => {
  it('offers BINARYMIME with CHUNKING, and answers 530 to MAIL before STARTTLS', async () => {
    const cli = await startCli(['--tls', '--require-tls', '--binarymime', '127.0.0.1:0'], 20_000);
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      const ehlo = await c.command('EHLO client.test');
      assert.ok(ehlo.lines.includes('BINARYMIME') && ehlo.lines.includes('CHUNKING'), ehlo.lines.join('\n'));
      assert.equal((await c.command('MAIL FROM:<a@b>')).code, 530);
      assert.equal((await c.command('STARTTLS')).code, 220);
      await c.startTls();
      await c.command('EHLO client.test');
      assert.equal((await c.command('MAIL FROM:<a@b> BODY=BINARYMIME')).code, 250);
    } finally {
      c.close();
      await cli.stop();
    }
  });

  it('does not offer CHUNKING with --no-chunking, nor AUTH with --no-auth (both offered on loopback by default)', async () => {
    const cli = await startCli(['--no-chunking', '--no-auth', '127.0.0.1:0']);
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      const ehlo = await c.command('EHLO client.test');
      assert.ok(!ehlo.lines.includes('CHUNKING'), ehlo.lines.join('\n'));
      assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')), ehlo.lines.join('\n'));
      // A verb not offered is unknown, as smtpd answered it (500), like AUTH before EHLO.
      assert.equal((await c.command('AUTH PLAIN AGFsaWNlAHB3')).code, 500);
    } finally {
      c.close();
      await cli.stop();
    }
  });
});
