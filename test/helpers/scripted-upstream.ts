/**
 * Upstream servers for relay tests: a scripted one (smtp-server, with a
 * reply chosen per RCPT and after the data), and a silent one that accepts
 * the connection and never says a word (for timeouts).
 */
import { once } from 'node:events';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message the scripted upstream accepted. */
export interface UpstreamMessage {
  readonly mailFrom: string;
  readonly rcptTo: string[];
  /** MAIL parameters, upper-cased keys: `{ BODY: '8BITMIME', SIZE: '42' }`. */
  readonly mailParams: Record<string, unknown>;
  readonly data: Buffer;
  readonly secure: boolean;
  readonly user: string | undefined;
}

export interface UpstreamScript {
  /** The reply to `RCPT TO:<address>`: undefined accepts, `'550 No such user'` refuses. */
  rcpt?: (address: string) => string | undefined;
  /** The reply after the data: undefined accepts. */
  data?: () => string | undefined;
  /** Offer STARTTLS with this certificate and key. */
  tls?: { key: string; cert: string };
  /** Offer AUTH and accept only this user and password. */
  auth?: { user: string; pass: string };
}

export interface ScriptedUpstream {
  readonly port: number;
  readonly messages: UpstreamMessage[];
  close(): Promise<void>;
}

function refusal(text: string): Error {
  return Object.assign(new Error(text.slice(4)), { responseCode: Number(text.slice(0, 3)) });
}

/** Starts a scripted upstream on 127.0.0.1 and a free port. */
export async function startScriptedUpstream(script: UpstreamScript = {}): Promise<ScriptedUpstream> {
  const messages: UpstreamMessage[] = [];
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    ...(script.tls ? { key: script.tls.key, cert: script.tls.cert } : { disabledCommands: ['STARTTLS'] }),
    ...(script.auth ? { authMethods: ['PLAIN', 'LOGIN'], allowInsecureAuth: true } : { authOptional: true }),
    onAuth(auth, _session, callback) {
      if (script.auth && auth.username === script.auth.user && auth.password === script.auth.pass)
        return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const text = script.rcpt?.(address.address);
      callback(text ? refusal(text) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const text = script.data?.();
        if (text) return callback(refusal(text));
        const from = session.envelope.mailFrom;
        messages.push({
          mailFrom: from ? from.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailParams: (from ? from.args : {}) as Record<string, unknown>,
          data: Buffer.concat(chunks),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as net.AddressInfo;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A server that accepts connections and never answers: an upstream that hangs. */
export async function startSilentUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * An upstream that answers each command in turn but never closes its side,
 * not after our FIN, not after QUIT (some servers wait for the client to
 * close): `afterData` is its reply to the message. `commands` is every
 * command line it read; `closed` resolves when the client's side is gone.
 */
export async function startStubbornUpstream(afterData: string): Promise<{
  port: number;
  commands: string[];
  closed(): Promise<void>;
  close(): Promise<void>;
}> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  let onClosed: () => void = () => {};
  const gone = new Promise<void>((resolve) => (onClosed = resolve));
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('end', onClosed);
    s.on('close', () => sockets.delete(s));
    s.write('220 stubborn ESMTP\r\n');
    let buf = '';
    let inData = false;
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            s.write(`${afterData}\r\n`);
          }
          continue;
        }
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        s.write(
          verb === 'EHLO'
            ? '250 stubborn\r\n'
            : verb === 'DATA'
              ? '354 go on\r\n'
              : verb === 'QUIT'
                ? '221 bye\r\n'
                : '250 ok\r\n',
        );
        inData = verb === 'DATA';
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    commands,
    closed: () => gone,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
