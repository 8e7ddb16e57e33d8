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
