/**
 * `--pop3`: the inbox over POP3, each user reading the mailbox of their
 * name (every message when there are no mailboxes), on sockets: the
 * protocol is channel.ts's; this file reads and writes bytes, upgrades to
 * TLS (STLS, or TLS from the first byte), checks passwords, and reads and
 * deletes messages in the inbox. DELE takes effect at QUIT, as RFC 1939
 * says; a session that ends otherwise deletes nothing.
 */
import net from 'node:net';
import tls from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import type { Inbox } from '../inbox/inbox.js';
import { isLoopbackAddress } from '../loopback.js';
import { Pop3Channel, type Pop3Answer, type Pop3Entry, type Pop3Output } from './channel.js';

export interface Pop3Settings {
  readonly host: string;
  readonly port: number;
  /** `--pop3-auth-file`'s users and passwords. */
  readonly users: ReadonlyMap<string, string>;
  /** A certificate for STLS (and `implicit` TLS); null: none offered. */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer } | null;
  /** TLS from the first byte (POP3S, port 995's way) instead of STLS. */
  readonly implicit: boolean;
  /** Whether the sink files mail in mailboxes: then a user reads only their own. */
  readonly mailboxes: boolean;
  /** How long a session may stay silent (RFC 1939: at least 10 minutes). */
  readonly idleMs?: number;
}

/** Sessions at once at most; one more is told so and closed. */
const MAX_SESSIONS = 64;
const IDLE_MS = 10 * 60_000;
/** Messages a maildrop lists at most (the newest). */
const MAX_DROP = 10_000;

/** Whether `given` is `user`'s password, compared in constant time. */
function passwordMatches(users: ReadonlyMap<string, string>, user: string, given: string): boolean {
  const expected = users.get(user);
  if (expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Pop3Server {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly settings: Pop3Settings,
    private readonly inbox: Inbox,
  ) {
    const accept = (socket: net.Socket) => this.session(socket);
    this.server =
      settings.implicit && settings.tls
        ? tls.createServer({ cert: settings.tls.cert, key: settings.tls.key }, accept)
        : net.createServer(accept);
    this.server.on('tlsClientError', () => {});
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.settings.port, this.settings.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The maildrop of `user`: their mailbox's messages (every message without mailboxes), oldest first. */
  private async maildrop(user: string): Promise<Pop3Entry[]> {
    const { messages } = await this.inbox.list(0, MAX_DROP);
    return messages
      .filter((e) => !this.settings.mailboxes || e.mailbox === user)
      .reverse()
      .map((e) => ({ uid: e.id, size: e.message.data.length }));
  }

  private session(first: net.Socket): void {
    if (this.sockets.size >= MAX_SESSIONS) {
      first.end('-ERR [SYS/TEMP] too many sessions; try again later\r\n');
      first.on('error', () => {});
      return;
    }
    let socket = first;
    this.sockets.add(socket);
    const secure = socket instanceof tls.TLSSocket;
    const channel = new Pop3Channel({
      tls: this.settings.tls !== null && !secure,
      plainAuth: isLoopbackAddress(socket.remoteAddress ?? ''),
    });
    const { users } = this.settings;
    let busy = false;
    const onData = (data: Buffer) => {
      // While the server works on a request, the channel buffers what comes.
      const out = channel.receive(data);
      void act(out);
    };
    const act = async (out: Pop3Output): Promise<void> => {
      for (const reply of out.replies) socket.write(reply);
      const request = out.request;
      if (!request || busy) return;
      if (request.kind === 'close') {
        socket.end();
        return;
      }
      busy = true;
      let answer: Pop3Answer;
      try {
        switch (request.kind) {
          case 'login':
            answer = passwordMatches(users, request.user, request.password) ? await this.maildrop(request.user) : null;
            break;
          case 'retrieve':
            answer = (await this.inbox.get(request.uid))?.message.data ?? null;
            break;
          case 'update':
            if (request.deleted.length > 0) await this.inbox.remove(request.deleted);
            break;
          case 'starttls':
            socket = await upgrade(socket, this.settings.tls!);
            this.sockets.add(socket);
            socket.on('data', onData);
            break;
        }
      } catch {
        socket.destroy();
        return;
      } finally {
        busy = false;
      }
      await act(channel.resume(answer));
    };
    const upgrade = (plain: net.Socket, creds: NonNullable<Pop3Settings['tls']>): Promise<tls.TLSSocket> =>
      new Promise((resolve, reject) => {
        plain.off('data', onData);
        const secured = new tls.TLSSocket(plain, { isServer: true, cert: creds.cert, key: creds.key });
        secured.once('secure', () => resolve(secured));
        secured.once('error', reject);
        secured.on('close', () => this.sockets.delete(secured));
      });
    socket.setTimeout(this.settings.idleMs ?? IDLE_MS, () => {
      socket.end('-ERR autologout: idle too long\r\n');
    });
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(first));
    socket.on('data', onData);
    socket.write(channel.greet());
  }
}
