/**
 * `smtpd-ts sendmail` with its real callers: PHP's mail() through
 * sendmail_path, and a cron-style shell script piping to it; then the
 * exit statuses sendmail's callers check.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { NODE_ARGS, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { missingTools } from '../helpers/process.js';

const run = promisify(execFile);
const SENDMAIL = [process.execPath, ...NODE_ARGS, 'sendmail'];
const quoted = (args: readonly string[]) => args.map((a) => `'${a}'`).join(' ');

/** Runs `smtpd-ts sendmail ARGS` with `input` on stdin; resolves with its status and stderr. */
function sendmail(
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(SENDMAIL[0]!, [...SENDMAIL.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.end(input);
  });
}

type SinkRecord = {
  mailFrom: string;
  rcptTo: string[];
  subject: string;
  from: { name: string; address: string }[];
  headers: { name: string; value: string }[];
};

describe('smtpd-ts sendmail', () => {
  let sink: RunningCli;
  const records = (): SinkRecord[] =>
    sink
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SinkRecord);

  before(async () => {
    sink = await startCli(['-f', 'json', '-s', '2000', '127.0.0.1:0']);
  });
  after(async () => {
    await sink.stop();
  });

  it(
    "takes PHP's mail() through sendmail_path",
    { skip: missingTools(['php']).length > 0 && 'php not found: apt-get install php-cli' },
    async () => {
      const before = records().length;
      const path = `${quoted(SENDMAIL)} -t -i -S 127.0.0.1:${sink.port}`;
      const php = `var_dump(mail("bob@example.test", "Invoice 42", "Hello Bob,\\n.\\nsee attached.", "From: Shop <shop@example.test>\\r\\nCc: audit@example.test"));`;
      const { stdout } = await run('php', ['-d', `sendmail_path=${path}`, '-r', php], { cwd: ROOT, timeout: 30_000 });
      assert.equal(stdout.trim(), 'bool(true)');
      await sink.waitForStdout(() => records().length > before);
      const r = records().at(-1)!;
      assert.equal(r.subject, 'Invoice 42');
      assert.equal(r.mailFrom, 'shop@example.test');
      assert.deepEqual(r.rcptTo, ['bob@example.test', 'audit@example.test']);
      const names = r.headers.map((h) => h.name.toLowerCase());
      assert.ok(names.includes('date') && names.includes('message-id'), 'Date and Message-ID added');
    },
  );

  it('takes a cron-style script: -t reads To, Cc and Bcc, and Bcc is removed', async () => {
    const before = records().length;
    const script = `printf 'To: ops@example.test\\nBcc: hidden@example.test\\nSubject: nightly backup\\n\\nok\\n' | ${quoted(SENDMAIL)} -t -F 'Cron Daemon'`;
    await run('bash', ['-c', script], {
      cwd: ROOT,
      env: { ...process.env, SMTPD_TS_SMTP_ADDR: `127.0.0.1:${sink.port}`, USER: 'cron' },
      timeout: 30_000,
    });
    await sink.waitForStdout(() => records().length > before);
    const r = records().at(-1)!;
    assert.deepEqual(r.rcptTo, ['ops@example.test', 'hidden@example.test']);
    assert.ok(!r.headers.some((h) => h.name.toLowerCase() === 'bcc'), 'no Bcc header');
    assert.deepEqual(
      r.from.map((f) => f.name),
      ['Cron Daemon'],
    );
    assert.match(r.mailFrom, /^cron@/);
  });

  it('exits as sendmail does: 64 without a recipient or for a bad option, 69 when refused, 75 when the sink is down', async () => {
    const to = `127.0.0.1:${sink.port}`;
    const none = await sendmail(['-S', to], 'Subject: x\n\nbody\n');
    assert.deepEqual(
      [none.code, none.stderr],
      [64, 'smtpd-ts sendmail: no recipient: give them as arguments, or use -t\n'],
    );
    assert.equal((await sendmail(['-S', to, '-bs'], '')).code, 64);
    // A line break in -F or -f would start a header line or a command of its own: a usage error, nothing sent.
    for (const flags of [
      ['-F', 'Name\nBcc: x@evil.test'],
      ['-f', 'a@b.test\r\nRCPT TO:<x@evil.test>'],
    ]) {
      const injected = await sendmail(['-S', to, ...flags, 'x@example.test'], 'Subject: x\n\nbody\n');
      assert.deepEqual([injected.code, injected.stderr.split('\n').length], [64, 2], injected.stderr);
    }
    const big = await sendmail(['-S', to, 'x@example.test'], `Subject: big\n\n${'x'.repeat(5000)}\n`);
    assert.equal(big.code, 69);
    assert.match(big.stderr, /x@example\.test: 552 /);
    const down = await sendmail(['-S', '127.0.0.1:1', 'x@example.test'], 'Subject: x\n\nbody\n');
    assert.equal(down.code, 75);
    assert.match(down.stderr, /^smtpd-ts sendmail: cannot submit to the sink at 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
