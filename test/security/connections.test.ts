/**
 * Connections that misbehave on purpose, over real sockets on 127.0.0.1:
 * clients that never read, half-close, go silent in a TLS handshake or
 * after a 421. None may make the sink buffer without bound, hang its
 * shutdown, or keep a connection open past its timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { CLOSE_LINGER_MS, WRITE_HIGH_WATER } from '../../src/server/connection.js';
import { SMTPServer, type ServerOptions } from '../../src/server/server.js';
import { testCredentials } from '../helpers/tls-credentials.js';

const LOCAL = { host: '127.0.0.1', port: 0 };

/** What each test opened: closed after it, pass or fail, so that a failure never leaves the file hanging. */
const opened: { servers: SMTPServer[]; sockets: net.Socket[] } = { servers: [], sockets: [] };
afterEach(async () => {
  for (const socket of opened.sockets.splice(0)) socket.destroy();
  await Promise.all(opened.servers.splice(0).map((s) => s.close(0).catch(() => {})));
});

async function started(options: ServerOptions = {}): Promise<{ server: SMTPServer; port: number; log: () => string }> {
  const log = new PassThrough();
  let logged = '';
  log.on('data', (c: Buffer) => (logged += c.toString()));
  const server = new SMTPServer(LOCAL, null, { log, handler: { handleMessage: () => undefined }, ...options });
  opened.servers.push(server);
  const { port } = await server.listen();
  return { server, port, log: () => logged };
}

function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  opened.sockets.push(socket);
  socket.on('error', () => {});
  return once(socket, 'connect').then(() => socket);
}

/** Resolves when the socket has closed (an error on the way is part of closing). */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** Reads until `text` has arrived, leaving the socket open. */
function readUntil(socket: net.Socket, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (c: Buffer) => {
      if (!(seen += c.toString()).includes(text)) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
}

/** Resolves with how long `promise` took, or rejects after `ms` (the bound, not a speed target). */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `test` until it holds (bounded by the caller's `within`). */
async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 20));
}

/** The server side of each open connection: what the server has queued for it and not yet written. */
function queuedBytes(server: SMTPServer): number[] {
  const connections = (server as unknown as { connections: Set<{ socket: net.Socket }> }).connections;
  return [...connections].map((c) => c.socket.writableLength);
}

describe('connections that misbehave', () => {
  it(
    'stops reading from a client that pipelines bare LFs and never reads its replies',
    { timeout: 30_000 },
    async () => {
      const { server, port } = await started();
      const client = await connect(port);
      client.pause(); // never read
      const chunk = Buffer.alloc(1 << 20, 0x0a);
      for (let i = 0; i < 32; i++) client.write(chunk); // 32 MiB, a 500 reply each
      let worst = 0;
      // The kernel's buffers fill, then the server must stop: what it queues stays bounded.
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 25));
        worst = Math.max(worst, ...queuedBytes(server));
      }
      assert.ok(worst > 0, 'the server never had replies queued: the test did not load it');
      assert.ok(worst <= WRITE_HIGH_WATER + 4096 * 64, `the server queued ${worst} bytes of replies`);
      assert.ok(
        client.writableLength > 8 << 20,
        `only ${client.writableLength} bytes waited on the client side: the server went on reading`,
      );
      // A client that reads again gets its replies, in order.
      client.resume();
      client.destroy();
      await within(5000, server.close(100), 'shutdown');
    },
  );

  it('answers everything a half-closed client sent, then closes', { timeout: 10_000 }, async () => {
    const { server, port } = await started();
    const client = await connect(port);
    let received = '';
    client.on('data', (c: Buffer) => (received += c.toString()));
    client.end(
      'EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n',
    );
    await within(5000, closed(client), 'the close');
    const codes = received
      .split('\r\n')
      .filter((l) => /^\d{3} /.test(l))
      .map((l) => Number(l.slice(0, 3)));
    assert.deepEqual(codes, [220, 250, 250, 250, 354, 250, 221]);
    await server.close(100);
  });

  it('answers a half-closed client whose message is still with the handler', { timeout: 10_000 }, async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { server, port } = await started({ handler: { handleMessage: () => gate } });
    const client = await connect(port);
    let received = '';
    client.on('data', (c: Buffer) => (received += c.toString()));
    client.end('HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nbody\r\n.\r\nNOOP\r\n');
    await new Promise((r) => setTimeout(r, 100));
    release();
    await within(5000, closed(client), 'the close');
    assert.match(received, /354 .*\r\n250 OK\r\n250 OK\r\n$/);
    await server.close(100);
  });

  for (const [name, implicit] of [
    ['after STARTTLS', false],
    ['at the start of implicit TLS', true],
  ] as const) {
    it(
      `drops a client silent ${name} after the command timeout, and shutdown does not wait for one`,
      { timeout: 20_000 },
      async () => {
        const tls = await testCredentials();
        const { server, port } = await started({ tls, tlsImplicit: implicit, timeouts: { command: 300 } });
        const silent = async (p: number) => {
          const client = await connect(p);
          if (!implicit) {
            client.write('EHLO x\r\nSTARTTLS\r\n');
            await readUntil(client, '220 Ready');
          }
          client.resume();
          return client;
        };
        const timedOut = await silent(port);
        await within(5000, closed(timedOut), 'the handshake timeout');
        // With the timeout off, shutdown ends the silent handshake itself.
        await server.close(0);
        const second = await started({ tls, tlsImplicit: implicit, timeouts: { command: 0 } });
        const client = await silent(second.port);
        await within(3000, second.server.close(200), 'shutdown with a silent handshake');
        client.destroy();
      },
    );
  }

  it('times out a client that stops reading, and shutdown does not wait for it', { timeout: 20_000 }, async () => {
    const { server, port } = await started({ timeouts: { command: 300 } });
    const client = await connect(port);
    client.pause();
    client.write(Buffer.alloc(16 << 20, 0x0a));
    // The server gives up on it: its side of the connection is gone.
    await within(
      300 + CLOSE_LINGER_MS + 5000,
      until(() => server.connectionCount === 0),
      'the command timeout',
    );
    client.destroy();
    const other = await connect(port);
    other.pause();
    other.write(Buffer.alloc(16 << 20, 0x0a));
    await new Promise((r) => setTimeout(r, 100));
    await within(3000, server.close(200), 'shutdown');
    other.destroy();
  });

  it(
    'closes a connection refused over the limit even if the client never reads, and shutdown does not wait for it',
    { timeout: 20_000 },
    async () => {
      const { server, port } = await started({ maxConnections: 1 });
      const first = await connect(port);
      const refused = await connect(port);
      refused.pause();
      const refusedSockets = (server as unknown as { refusedSockets: Set<net.Socket> }).refusedSockets;
      await within(
        1000,
        until(() => refusedSockets.size === 1),
        'the refusal',
      );
      await within(
        CLOSE_LINGER_MS + 5000,
        until(() => refusedSockets.size === 0),
        'the refused connection',
      );
      const again = await connect(port);
      again.pause();
      await within(3000, server.close(100), 'shutdown');
      first.destroy();
      again.destroy();
    },
  );

  it(
    'survives a handler that makes the connection code throw: the connection drops, the server serves on',
    { timeout: 10_000 },
    async () => {
      const { server, log } = await started();
      // A transcript sink that throws stands for any bug in a socket event handler.
      const broken = new SMTPServer(LOCAL, null, {
        log: new PassThrough(),
        handler: { handleMessage: () => undefined },
        transcript: () => {
          throw new Error('transcript bug');
        },
      });
      const errors: string[] = [];
      (broken as unknown as { log: { write(s: string): void } }).log = { write: (s: string) => void errors.push(s) };
      const { port: brokenPort } = await broken.listen();
      const c = await connect(brokenPort);
      c.resume();
      c.end('QUIT\r\n');
      await within(5000, closed(c), 'the close');
      await new Promise((r) => setTimeout(r, 50));
      assert.match(errors.join(''), /internal error on a connection \(dropped\): Error: transcript bug/);
      const d = await connect(brokenPort);
      const [greeting] = (await once(d, 'data')) as [Buffer];
      assert.match(greeting.toString(), /^220 /);
      d.destroy();
      await broken.close(100);
      await server.close(100);
      assert.equal(log(), '');
    },
  );
});
