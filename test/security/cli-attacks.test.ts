/**
 * Attacks through the real CLI with a real client: forged headers from the
 * envelope, escape sequences aimed at the terminal through stderr, and a
 * From header built to make a backtracking lint freeze the sink.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const FORGED_FROM = '"x\rSubject: FAKE\rFrom: ceo@bank.test\r\r"@evil.test';

async function session(port: number, lines: readonly string[], data: string): Promise<number[]> {
  const c = await SmtpClient.connect(port);
  try {
    const codes = [(await c.read()).code];
    for (const line of lines) codes.push((await c.command(line)).code);
    c.write(`${data}\r\n.\r\n`);
    codes.push((await c.read(10_000)).code);
    codes.push((await c.command('QUIT')).code);
    return codes;
  } finally {
    c.close();
  }
}

describe('attacks through the CLI', () => {
  const tmp = tempDir('cli-attacks');
  const running: RunningCli[] = [];
  after(async () => {
    for (const r of running) await r.stop();
  });

  it('writes an envelope with CR in a quoted local part into the Maildir without forging a header', async () => {
    const dir = tmp.join('Maildir');
    const cli = await startCli(['127.0.0.1:0', '--save-dir', dir, '-f', 'headers']);
    running.push(cli);
    const codes = await session(
      cli.port,
      ['EHLO x', `MAIL FROM:<${FORGED_FROM}>`, 'RCPT TO:<"y\rBcc: all@corp.test"@evil.test>', 'DATA'],
      'Subject: real\r\n\r\nbody',
    );
    assert.equal(codes[4], 354);
    assert.equal(codes[5], 250);
    const [file] = readdirSync(path.join(dir, 'new'));
    const text = readFileSync(path.join(dir, 'new', file!), 'latin1');
    assert.ok(!text.includes('\r'), 'a CR reached the file');
    // Python's mail parser reads it as a mail reader would.
    const script =
      'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print(m.get_all("Subject")); print(m.get_all("From")); print(m.get_all("Bcc"))';
    const seen = execFileSync('python3', ['-c', script, path.join(dir, 'new', file!)], { encoding: 'utf8' });
    assert.equal(seen, "['real']\nNone\nNone\n");
  });

  it('escapes what a client sends before it reaches stderr under -d', async () => {
    const cli = await startCli(['127.0.0.1:0', '-d', '-f', 'headers']);
    running.push(cli);
    const osc = '\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\u202eevil';
    await session(
      cli.port,
      [`EHLO ${osc}`, `MAIL FROM:<a@b.test>`, `RCPT TO:<c@d.test>`, 'DATA'],
      'Subject: x\r\n\r\nbody',
    );
    await cli.waitForStdout('END MESSAGE');
    const err = cli.stderr();
    assert.match(err, /<<< EHLO \\x1b\]0;pwned\\x07\\x1b\]52;c;ZXZpbA==\\x07\\x1b\[2J/);
    assert.doesNotMatch(err, /[\x07\x1b\x9b\u202e]/);
  });

  it('lints a From built to backtrack, and keeps answering other clients meanwhile', { timeout: 30_000 }, async () => {
    const cli = await startCli(['127.0.0.1:0', '-f', 'json']);
    running.push(cli);
    const from = `From: ${'a'.repeat(60)}; <x@y.test>`;
    const codes = await session(
      cli.port,
      ['EHLO x', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'DATA'],
      `${from}\r\nSubject: x\r\n\r\nbody`,
    );
    assert.equal(codes[5], 250);
    await cli.waitForStdout('"bad-from"');
    const other = await SmtpClient.connect(cli.port);
    assert.equal((await other.read()).code, 220);
    other.close();
  });
});
