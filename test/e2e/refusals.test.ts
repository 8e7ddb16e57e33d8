/**
 * Refused mail is visible: the real CLI is sent what it must refuse (a
 * message over -s, bare LFs under --bare-lf reject, MAIL without TLS under
 * --require-tls, a bad password, a connection over --max-connections, a
 * client that rejects the certificate) and says so on stderr, in JSON with
 * --json-refusals, and in the --timeout summary.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { REFUSAL_JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { startCli } from '../helpers/cli.js';
import { validate } from '../helpers/json-schema.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('refusals', () => {
  const dir = tempDir('refusals');

  it('get one line each on stderr, a JSON line with --json-refusals, and a count in the --timeout summary', async () => {
    await writeFile(dir.join('users'), 'alice:right\n');
    const cli = await startCli([
      ...['-s', '200', '--bare-lf', 'reject', '--auth-file', dir.join('users'), '--max-connections', '1'],
      ...['-f', 'json', '--json-refusals', '--timeout', '4', '127.0.0.1:0'],
    ]);
    const c = await SmtpClient.connect(cli.port);
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command(`AUTH PLAIN ${b64('\0alice\0wrong')}`)).code, 535);
    for (const line of ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']) await c.command(line);
    assert.equal((await c.command(`Subject: big\r\n\r\n${'x'.repeat(300)}\r\n.`)).code, 552);
    for (const line of ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']) await c.command(line);
    assert.equal((await c.command('Subject: lf\n\nbare\r\n.')).code, 550);
    // A second connection, over --max-connections 1.
    const second = await SmtpClient.connect(cli.port);
    assert.equal((await second.read()).code, 421);
    await c.command('QUIT');
    const { code } = await new Promise<{ code: number | null }>((resolve) =>
      cli.child.once('exit', (n) => resolve({ code: n })),
    );
    assert.equal(code, 3);
    const err = cli.stderr();
    assert.match(err, /refused 127\.0\.0\.1:\d+ AUTH: 535 5\.7\.8 /);
    assert.match(err, /refused 127\.0\.0\.1:\d+ DATA: 552 5\.3\.4 /);
    assert.match(err, /refused 127\.0\.0\.1:\d+ DATA: 550 /);
    assert.match(err, /refused 127\.0\.0\.1:\d+ CONNECT: 421 /);
    assert.match(err, /timeout: 4 s passed; 0 message\(s\) arrived; 4 refused: /);
    const records = cli
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.type, r.command, r.code]),
      [
        ['refusal', 'AUTH', 535],
        ['refusal', 'DATA', 552],
        ['refusal', 'DATA', 550],
        ['refusal', 'CONNECT', 421],
      ],
    );
    for (const r of records) assert.deepEqual(validate(REFUSAL_JSON_SCHEMA, r), []);
  });

  it('include a TLS handshake the client gives up on, with what it means', async () => {
    const cli = await startCli(['--tls', '--tls-implicit', '-f', 'json', '127.0.0.1:0']);
    try {
      // Python's smtplib with a verifying context rejects the self-signed certificate.
      const connect = `smtplib.SMTP_SSL('127.0.0.1', ${cli.port}, timeout=5, context=ssl.create_default_context())`;
      const script = `import smtplib, ssl\ntry:\n  ${connect}\nexcept Exception as e:\n  print(e)`;
      const { stdout } = await run('python3', ['-c', script]);
      assert.match(stdout, /CERTIFICATE_VERIFY_FAILED/);
      await until(() => cli.stderr().includes('handshake with'));
      assert.match(
        cli.stderr(),
        /smtpd-ts: TLS handshake with 127\.0\.0\.1:\d+ failed: .*unknown ca: the client does not trust the certificate/,
      );
      assert.equal(cli.stdout(), '', 'JSON gets refusals only with --json-refusals');
    } finally {
      await cli.stop();
    }
  });
});

describe('a flood of refusals', () => {
  it('shows a client that pipelines a thousand bad lines twenty of them, and counts them all', async () => {
    const cli = await startCli(['-f', 'json', '--json-refusals', '--timeout', '3', '127.0.0.1:0']);
    const c = await SmtpClient.connect(cli.port);
    await c.read();
    c.write('BOGUS\r\n'.repeat(1000));
    for (let i = 0; i < 1000; i++) await c.read();
    c.close();
    await new Promise<void>((resolve) => cli.child.once('exit', () => resolve()));
    const lines = cli.stderr().split('\n');
    assert.equal(lines.filter((l) => l.includes(' BOGUS: 500 ')).length, 20);
    assert.equal(lines.filter((l) => l.includes('further refusals on the connection from')).length, 1);
    assert.match(cli.stderr(), /1000 refused: BOGUS 500 5\.5\.1 Error: command "BOGUS" not recognized \(1000\)/);
    assert.equal(cli.stdout().trim().split('\n').length, 20);
  });
});
