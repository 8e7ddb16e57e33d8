/**
 * The hardening promises through the real CLI, with real sockets on
 * 127.0.0.1: a sink with silent and non-reading clients still stops on
 * SIGTERM and on --exit-after; a half-closed client gets every reply; a
 * failed write withdraws what was written; credentials stay out of -d; an
 * --auth-file with a byte order mark works; a NUL reaches --deliver.
 * (test/security/ holds the same rules tested against the server class.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { exitStatus } from '../helpers/process.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { until } from '../helpers/until.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A raw client that sends `text` and returns the socket and what it has received so far. */
async function raw(port: number, text = ''): Promise<{ socket: net.Socket; received: () => string }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  if (text !== '') socket.write(text);
  return { socket, received: () => received };
}

/** One message from HELO to QUIT; every reply code. */
async function send(port: number, lines: readonly string[], data: string): Promise<number[]> {
  const c = await SmtpClient.connect(port);
  try {
    const codes = [(await c.read()).code];
    for (const line of lines) codes.push((await c.command(line)).code);
    c.write(`${data}\r\n.\r\n`);
    codes.push((await c.read()).code);
    codes.push((await c.command('QUIT')).code);
    return codes;
  } finally {
    c.close();
  }
}

const ENVELOPE = ['HELO x', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'DATA'];

describe('hardening through the CLI', () => {
  const tmp = tempDir('e2e-hardening');
  const running: RunningCli[] = [];
  const sockets: net.Socket[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const r of running) await r.stop('SIGKILL');
  });

  it(
    'exits 0 on SIGTERM though one client is silent in a TLS handshake and another never reads',
    { timeout: 30_000 },
    async () => {
      const cli = await startCli(['127.0.0.1:0', '--tls', '--command-timeout', '0']);
      running.push(cli);
      const handshake = await raw(cli.port, 'EHLO x\r\nSTARTTLS\r\n');
      await until(() => handshake.received().includes('220 Ready'), 5000, 'the 220 to STARTTLS');
      const deaf = await raw(cli.port);
      deaf.socket.pause();
      deaf.socket.write(Buffer.alloc(8 << 20, 0x0a));
      sockets.push(handshake.socket, deaf.socket);
      await new Promise((r) => setTimeout(r, 200));
      cli.child.kill('SIGTERM');
      // The grace period is 3 s; then whatever is left is destroyed.
      const { code } = await exitStatus(cli.child, 15_000);
      assert.equal(code, 0, cli.stderr());
    },
  );

  it(
    'ends with --exit-after though a client silent after STARTTLS is still connected',
    { timeout: 30_000 },
    async () => {
      const cli = await startCli(['127.0.0.1:0', '--tls', '--exit-after', '1', '--command-timeout', '0']);
      running.push(cli);
      const silent = await raw(cli.port, 'EHLO x\r\nSTARTTLS\r\n');
      sockets.push(silent.socket);
      await until(() => silent.received().includes('220 Ready'), 5000, 'the 220 to STARTTLS');
      const codes = await send(cli.port, ENVELOPE, 'Subject: one\r\n\r\nbody');
      // The message gets its 250; the sink is shutting down by the time QUIT comes (421 or 221).
      assert.equal(codes[5], 250);
      const { code } = await exitStatus(cli.child, 15_000);
      assert.equal(code, 0, cli.stderr());
    },
  );

  it('answers a half-closed client everything, and writes its message', { timeout: 20_000 }, async () => {
    const cli = await startCli(['127.0.0.1:0', '-f', 'json']);
    running.push(cli);
    const client = await raw(cli.port);
    sockets.push(client.socket);
    const closed = new Promise<void>((resolve) => client.socket.once('close', () => resolve()));
    client.socket.end(`${ENVELOPE.join('\r\n')}\r\nSubject: half\r\n\r\nbody\r\n.\r\nQUIT\r\n`);
    await closed;
    const codes = client
      .received()
      .match(/^\d{3}(?= )/gm)!
      .map(Number);
    assert.deepEqual(codes, [220, 250, 250, 250, 354, 250, 221]);
    await cli.waitForStdout('"subject":"half"');
  });

  it(
    'withdraws a message from the outputs that have it when another cannot be written',
    { skip: !existsSync('/dev/full') && 'no /dev/full here', timeout: 20_000 },
    async () => {
      const log = tmp.join('kept.jsonl');
      const cli = await startCli(['127.0.0.1:0', '-o', `json:${log}`, '-o', 'raw:/dev/full']);
      running.push(cli);
      const codes = await send(cli.port, ENVELOPE, 'Subject: full\r\n\r\nbody');
      assert.equal(codes[5], 451);
      const [message, withdrawn] = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; id: string; reason?: string });
      assert.equal(message!.type, 'message');
      assert.deepEqual(
        { ...withdrawn, reason: undefined },
        { type: 'withdrawn', schemaVersion: 1, id: message!.id, reason: undefined },
      );
      assert.match(withdrawn!.reason!, /^cannot write to \/dev\/full: no space left on device \(ENOSPC\)$/);
    },
  );

  it(
    'keeps credentials out of -d: a tab-separated AUTH, and lines sent after a refused one',
    { timeout: 20_000 },
    async () => {
      const cli = await startCli(['127.0.0.1:0', '-d']);
      running.push(cli);
      const secret = b64('\0user\0hunter2');
      const client = await raw(
        cli.port,
        `EHLO x\r\nAUTH\tPLAIN\t${secret}\r\nMAIL FROM:<a@b.test>\r\nAUTH LOGIN\r\n${b64('user')}\r\n${b64('hunter2')}\r\nQUIT\r\n`,
      );
      sockets.push(client.socket);
      await until(() => client.received().includes('221 '), 5000, 'the 221');
      await until(() => cli.stderr().includes('>>> 221 '), 5000, 'the trace of the 221');
      assert.ok(!cli.stderr().includes(secret) && !cli.stderr().includes(b64('hunter2')), cli.stderr());
      assert.match(cli.stderr(), /<<< AUTH PLAIN \[initial response hidden\]/);
    },
  );

  it('takes an --auth-file that starts with a byte order mark', { timeout: 20_000 }, async () => {
    const users = tmp.join('users');
    writeFileSync(users, '\ufeffalice:s3cret\n');
    const cli = await startCli(['127.0.0.1:0', '--auth-file', users]);
    running.push(cli);
    const c = await SmtpClient.connect(cli.port);
    await c.read();
    await c.command('EHLO x');
    assert.equal((await c.command(`AUTH PLAIN ${b64('\0alice\0s3cret')}`)).code, 235);
    c.close();
  });

  it(
    'pipes a message to --deliver when HELO holds a NUL (written U+FFFD in the environment)',
    { timeout: 20_000 },
    async () => {
      const out = tmp.join('helo.txt');
      const cli = await startCli(['127.0.0.1:0', '--deliver', `*=printf '%s' "$CLIENT_HELO" > '${out}'`]);
      running.push(cli);
      const codes = await send(
        cli.port,
        ['HELO a\0b', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'DATA'],
        'Subject: nul\r\n\r\nbody',
      );
      assert.equal(codes[5], 250, cli.stderr());
      assert.equal(readFileSync(out, 'utf8'), 'a\ufffdb');
    },
  );
});
