/**
 * The PROXY protocol: the sans-I/O header parser (v1 and v2, whole and byte
 * by byte), and the server behind it, where the header's client address
 * becomes the message's peer (X-Peer and the outputs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import type { Message } from '../../src/message.js';
import { parseProxyHeader, PROXY_V2_SIGNATURE } from '../../src/server/proxy-protocol.js';
import { SMTPServer, type ServerOptions } from '../../src/server/server.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { testCredentials } from '../helpers/tls-credentials.js';

/** A v2 PROXY header for TCP over IPv4 or IPv6, with an optional TLV tail. */
function v2(source: [string, number], destination: [string, number], tlv = Buffer.alloc(0)): Buffer {
  const six = source[0].includes(':');
  // IPv6 addresses are given with all eight groups.
  const ip = (a: string) =>
    six
      ? Buffer.from(
          a
            .split(':')
            .map((g) => g.padStart(4, '0'))
            .join(''),
          'hex',
        )
      : Buffer.from(a.split('.').map(Number));
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(source[1], 0);
  ports.writeUInt16BE(destination[1], 2);
  const body = Buffer.concat([ip(source[0]), ip(destination[0]), ports, tlv]);
  const head = Buffer.from([0x21, six ? 0x21 : 0x11, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}

describe('parseProxyHeader', () => {
  it('reads a v1 header for TCP4 and TCP6, and UNKNOWN', () => {
    const h = Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 51234 25\r\nEHLO x\r\n');
    assert.deepEqual(parseProxyHeader(h), {
      kind: 'header',
      length: h.indexOf('EHLO'),
      source: { address: '203.0.113.7', port: 51234 },
      destination: { address: '192.0.2.1', port: 25 },
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 25\r\n'));
    assert.equal(six.kind === 'header' && six.source?.address, '2001:db8::7');
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
      kind: 'header',
      length: 15,
      source: null,
      destination: null,
    });
  });

  it('reads a v2 header for IPv4 and IPv6, skipping TLVs, and LOCAL', () => {
    const h = Buffer.concat([
      v2(['198.51.100.9', 40000], ['192.0.2.1', 25], Buffer.from([0x04, 0, 1, 0])),
      Buffer.from('rest'),
    ]);
    const r = parseProxyHeader(h);
    assert.ok(r.kind === 'header');
    assert.equal(r.length, h.length - 4);
    assert.deepEqual(r.source, { address: '198.51.100.9', port: 40000 });
    const six = parseProxyHeader(v2(['2001:db8:0:0:0:0:0:7', 1], ['2001:db8:0:0:0:0:0:1', 25]));
    assert.equal(six.kind === 'header' && six.source?.address, '2001:db8::7');
    const local = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]);
    assert.deepEqual(parseProxyHeader(local), { kind: 'header', length: 16, source: null, destination: null });
  });

  it('says incomplete for every prefix of a header, byte by byte', () => {
    for (const h of [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), v2(['1.2.3.4', 1], ['5.6.7.8', 2])]) {
      for (let i = 0; i < h.length; i++)
        assert.equal(parseProxyHeader(h.subarray(0, i)).kind, 'incomplete', `prefix of ${i} bytes`);
      assert.equal(parseProxyHeader(h).kind, 'header');
    }
  });

  it('refuses anything else: plain SMTP, bad addresses, a line too long, another version', () => {
    for (const bad of [
      'EHLO x\r\n',
      'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n',
      'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
      `PROXY ${'x'.repeat(120)}`,
    ]) {
      assert.equal(parseProxyHeader(Buffer.from(bad)).kind, 'invalid', bad);
    }
    const v3 = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x31, 0x11, 0, 0])]);
    assert.equal(parseProxyHeader(v3).kind, 'invalid');
  });
});

describe('the server behind a PROXY protocol load balancer', () => {
  const messages: Message[] = [];
  let server: SMTPServer;
  let tlsServer: SMTPServer;
  let port = 0;
  let tlsPort = 0;

  before(async () => {
    const c = await testCredentials();
    const options: ServerOptions = {
      hostname: 'sink.test',
      log: new PassThrough(),
      proxyProtocol: true,
      handler: { handleMessage: (m) => void messages.push(m) },
    };
    server = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, options);
    tlsServer = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, {
      ...options,
      tls: { cert: c.cert, key: c.key },
      tlsImplicit: true,
    });
    port = (await server.listen()).port;
    tlsPort = (await tlsServer.listen()).port;
  });
  after(async () => {
    await Promise.all([server.close(100), tlsServer.close(100)]);
  });

  async function send(c: SmtpClient, subject: string): Promise<Message> {
    assert.equal((await c.read()).code, 220);
    for (const line of ['EHLO lb.test', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA']) await c.command(line);
    assert.equal((await c.command(`Subject: ${subject}\r\n\r\nhi\r\n.`)).code, 250);
    c.close();
    return messages.find((m) => m.data.includes(subject))!;
  }

  it('takes the client address of a v1 header', async () => {
    const c = await SmtpClient.connect(port);
    c.write('PROXY TCP4 203.0.113.7 192.0.2.1 51234 25\r\n');
    const m = await send(c, 'v1');
    assert.deepEqual(m.peer, { address: '203.0.113.7', port: 51234 });
    assert.deepEqual(m.local, { address: '192.0.2.1', port: 25 });
  });

  it('takes the client address of a v2 header sent a byte at a time', async () => {
    const header = v2(['198.51.100.9', 40000], ['192.0.2.1', 25]);
    const c = await SmtpClient.connect(port);
    for (const b of header) c.write(Buffer.from([b]));
    const m = await send(c, 'v2');
    assert.deepEqual(m.peer, { address: '198.51.100.9', port: 40000 });
  });

  it('reads a v2 header, then implicit TLS whose first bytes came with it', async () => {
    const m = await send(
      await SmtpClient.connectTls(tlsPort, v2(['198.51.100.10', 40001], ['192.0.2.1', 465])),
      'v2 tls',
    );
    assert.equal(m.peer.address, '198.51.100.10');
    assert.ok(m.tls);
  });

  it('closes a connection without a valid header, before any greeting', async () => {
    const c = await SmtpClient.connect(port);
    c.write('EHLO direct.test\r\n');
    await c.waitClosed();
    await assert.rejects(c.read(500));
  });
});

describe('the CLI with --proxy-protocol', () => {
  let cli: RunningCli;

  before(async () => {
    cli = await startCli(['--proxy-protocol', '-f', 'json', '127.0.0.1:0']);
  });
  after(async () => {
    await cli?.stop();
  });

  it('takes the client address from a v1 header into the JSON peer', async () => {
    const c = await SmtpClient.connect(cli.port);
    try {
      c.write('PROXY TCP4 203.0.113.7 192.0.2.1 51234 25\r\n');
      assert.equal((await c.read()).code, 220);
      for (const line of ['HELO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA']) await c.command(line);
      assert.equal((await c.command('Subject: proxied\r\n\r\nhi\r\n.')).code, 250);
    } finally {
      c.close();
    }
    await cli.waitForStdout('\n');
    const record = JSON.parse(cli.stdout().trim().split('\n')[0]!) as { peer: { address: string } };
    assert.equal(record.peer.address, '203.0.113.7');
  });
});
