/**
 * The transport extensions over real sockets on 127.0.0.1, with Node's tls
 * as the client: STARTTLS (RFC 3207) and the CVE-2011-0411 injection,
 * implicit TLS (RFC 8314), --require-tls, AUTH over TLS, BDAT chunks split
 * across packets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import type { Message } from '../../src/message.js';
import { SMTPServer, type ServerOptions } from '../../src/server/server.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { testCredentials } from '../helpers/tls-credentials.js';

const LOCAL = { host: '127.0.0.1', port: 0 };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Sink {
  readonly port: number;
  readonly messages: Message[];
  close(): Promise<void>;
}

async function sink(options: ServerOptions): Promise<Sink> {
  const messages: Message[] = [];
  const server = new SMTPServer(LOCAL, null, {
    hostname: 'sink.test',
    log: new PassThrough(),
    handler: { handleMessage: (m) => void messages.push(m) },
    ...options,
  });
  const { port } = await server.listen();
  return { port, messages, close: () => server.close(100) };
}

describe('STARTTLS and implicit TLS with a Node tls client', () => {
  let tls: ServerOptions['tls'];
  const open: Sink[] = [];
  const start = async (options: ServerOptions) => {
    const s = await sink({ tls, ...options });
    open.push(s);
    return s;
  };

  before(async () => {
    const c = await testCredentials();
    tls = { cert: c.cert, key: c.key };
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
  });

  it('upgrades with STARTTLS, starts a new session, and records the protocol and cipher', async () => {
    const s = await start({ auth: { insecure: false } });
    const c = await SmtpClient.connect(s.port);
    try {
      assert.equal((await c.read()).code, 220);
      const clear = await c.command('EHLO client.test');
      assert.ok(clear.lines.includes('STARTTLS'));
      assert.ok(!clear.lines.some((l) => l.startsWith('AUTH')), 'no AUTH in the clear unless allowed');
      assert.equal((await c.command('STARTTLS')).code, 220);
      assert.match(await c.startTls(), /^TLSv1\.[23]$/);
      assert.equal((await c.command('MAIL FROM:<a@b>')).code, 503, 'the EHLO before STARTTLS is forgotten');
      const secure = await c.command('EHLO client.test');
      assert.ok(!secure.lines.includes('STARTTLS'));
      assert.ok(secure.lines.includes('AUTH PLAIN LOGIN CRAM-MD5'));
      assert.equal((await c.command(`AUTH PLAIN ${b64('\0alice\0pw')}`)).code, 235);
      for (const line of ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>']) assert.equal((await c.command(line)).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      assert.equal((await c.command('Subject: over TLS\r\n\r\nhi\r\n.')).code, 250);
      assert.equal(s.messages.length, 1);
      assert.match(s.messages[0]!.tls!.protocol, /^TLSv1\.[23]$/);
      assert.ok(s.messages[0]!.tls!.cipher.length > 0);
      assert.equal(s.messages[0]!.authUser, 'alice');
    } finally {
      c.close();
    }
  });

  it('discards commands pipelined after STARTTLS in the clear (CVE-2011-0411)', async () => {
    const s = await start({});
    const c = await SmtpClient.connect(s.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      // A man in the middle appends commands to the client's STARTTLS.
      c.write('STARTTLS\r\nMAIL FROM:<attacker@evil.test>\r\nRCPT TO:<victim@example.test>\r\n');
      assert.equal((await c.read()).code, 220);
      await c.startTls();
      assert.equal((await c.command('EHLO client.test')).code, 250);
      // Had the injected MAIL survived, this RCPT would be accepted.
      assert.equal((await c.command('RCPT TO:<c@d>')).code, 503);
      assert.equal((await c.command('NOOP')).code, 250, 'no stray replies to the injected commands');
    } finally {
      c.close();
    }
  });

  it('answers 530 to MAIL before STARTTLS with requireTls', async () => {
    const s = await start({ requireTls: true });
    const c = await SmtpClient.connect(s.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      assert.equal((await c.command('MAIL FROM:<a@b>')).code, 530);
      await c.command('STARTTLS');
      await c.startTls();
      await c.command('EHLO client.test');
      assert.equal((await c.command('MAIL FROM:<a@b>')).code, 250);
    } finally {
      c.close();
    }
  });

  it('speaks TLS from the first byte with tlsImplicit, and closes a client that speaks in the clear', async () => {
    const s = await start({ tlsImplicit: true });
    const c = await SmtpClient.connectTls(s.port);
    try {
      assert.equal((await c.read()).code, 220);
      const ehlo = await c.command('EHLO client.test');
      assert.ok(!ehlo.lines.includes('STARTTLS'));
      for (const line of ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA']) await c.command(line);
      assert.equal((await c.command('Subject: smtps\r\n\r\nhi\r\n.')).code, 250);
      assert.ok(s.messages[0]!.tls);
    } finally {
      c.close();
    }
    const plain = await SmtpClient.connect(s.port);
    plain.write('EHLO client.test\r\n');
    await plain.waitClosed();
  });

  it('takes BDAT chunks split across packets, pipelined with the commands around them', async () => {
    const s = await start({ tls: undefined });
    const c = await SmtpClient.connect(s.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      const body = Buffer.from('Subject: chunks\r\n\r\n' + 'x'.repeat(3000) + '\r\n');
      c.write('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 1000\r\n');
      for (let i = 0; i < 1000; i += 250) {
        c.write(body.subarray(i, i + 250));
        await tick();
      }
      c.write(`BDAT ${body.length - 1000} LAST\r\n`);
      c.write(body.subarray(1000, 1500));
      await tick();
      c.write(Buffer.concat([body.subarray(1500), Buffer.from('NOOP\r\n')]));
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await c.read()).code);
      assert.deepEqual(codes, [250, 250, 250, 250, 250]);
      assert.deepEqual(s.messages[0]!.data, body);
    } finally {
      c.close();
    }
  });
});
