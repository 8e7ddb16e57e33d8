/**
 * The inbox's live events: Mailpit's WebSocket (`/api/events`: new,
 * update, delete, truncate, prune, stats) and MailHog's server-sent events
 * (`/api/v1/events`: each new message). Bounded: at most MAX_LISTENERS of
 * each kind, and a listener that lets MAX_LISTENER_BACKLOG wait unread is
 * dropped rather than buffered for without end.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Inbox } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import { VERSION } from '../version.js';
import type { RequestGuard } from './guard.js';
import { HttpError } from '../errors.js';
import { mailhogMessage } from './mailhog-shapes.js';
import { summary } from './mailpit-shapes.js';

/** Event listeners of each kind (MailHog's streams, Mailpit's WebSockets) at once. */
export const MAX_LISTENERS = 64;

/** What may wait unread for one listener before it is dropped, in bytes. */
export const MAX_LISTENER_BACKLOG = 1024 * 1024;

/** The most of a message a MailHog event carries. */
const EVENT_MAX_BYTES = 256 * 1024;

/** How often an idle event stream gets a keep-alive, in ms (MailHog: 30 s). */
const KEEPALIVE_MS = 30_000;

export class EventStreams {
  /** Open MailHog event streams (`/api/v1/events`). */
  private readonly streams = new Set<http.ServerResponse>();
  private keepalive: NodeJS.Timeout | undefined;
  /** Mailpit's WebSocket event stream (`/api/events`). */
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inbox: Inbox,
    /** The host name in MailHog's message IDs. */
    private readonly hostname: string,
    private readonly guard: RequestGuard,
  ) {
    inbox.on('update', (e: { id: string; read: boolean }) =>
      this.broadcast('update', () => ({ ID: e.id, Read: e.read })),
    );
    // Mailpit says `delete` for a message deleted, `prune` (no data) for one dropped past the bounds.
    // (everything deleted at once is one `truncate`).
    inbox.on('delete', (id: string, reason: 'deleted' | 'pruned') => {
      if (reason === 'deleted') this.broadcast('delete', () => ({ ID: id }));
      else this.broadcast('prune', () => null);
    });
    inbox.on('truncate', () => this.broadcast('truncate', () => null));
  }

  /** `/api/events`: a WebSocket, for a request from this server's own pages or from outside a browser. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, webroot = '/'): void {
    socket.on('error', () => {});
    try {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== `${webroot}api/events`)
        throw new HttpError(404, '404 page not found');
      this.guard.checkUpgrade(req);
      if (this.sockets.clients.size >= MAX_LISTENERS) throw new HttpError(503, `too many listeners (${MAX_LISTENERS})`);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, 'bad request');
      socket.end(
        `HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${e.message}\n`,
      );
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', () => {});
      // Messages from the client are not read (Mailpit's are pings).
      ws.on('message', () => {});
      // New messages are followed only while someone listens: the SMTP path pays nothing otherwise (a new
      // message's summary needs its parse), nor does a database inbox read another instance's rows.
      if (this.sockets.clients.size === 1) this.inbox.on('new', this.onNewFrame);
      ws.on('close', () => {
        if (this.sockets.clients.size === 0) this.inbox.off('new', this.onNewFrame);
      });
    });
  }

  /** Mailpit's `new` frame: the message's summary, from its brief or its parse. */
  private readonly onNewFrame = (e: StoredMessage): void => {
    if (e.brief !== null) return this.broadcast('new', () => summary(e));
    void this.inbox.load(e).then(() => this.broadcast('new', () => summary(e)));
  };

  /** Mailpit's WebsocketNotification `{Type, Data}` to every client; `stats` follows changes, 250 ms later. */
  private broadcast(type: string, data: () => unknown): void {
    if (this.sockets.clients.size === 0) return;
    const frame = JSON.stringify({ Type: type, Data: data() });
    for (const ws of this.sockets.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      // A listener that does not read is dropped rather than buffered for without end.
      if (ws.bufferedAmount > MAX_LISTENER_BACKLOG) ws.terminate();
      else ws.send(frame);
    }
    if (type === 'stats' || this.statsTimer !== undefined) return;
    this.statsTimer = setTimeout(() => {
      // Counted when sent: a change made while the count runs arms the next one.
      void this.inbox.stats().then(
        ({ total, unread }) => {
          this.statsTimer = undefined;
          this.broadcast('stats', () => ({ Total: total, Unread: unread, Version: `smtpd-ts ${VERSION}` }));
        },
        () => (this.statsTimer = undefined),
      );
    }, 250).unref();
  }

  /** MailHog's event stream: each new message as `event: data`, a keep-alive every 30 s. */
  private readonly onNew = (entry: StoredMessage): void => {
    if (this.streams.size === 0) return;
    // A large message's event carries its first EVENT_MAX_BYTES (MailHog's UI only lists it; GET reads it whole).
    const message = mailhogMessage(entry, this.hostname, EVENT_MAX_BYTES);
    const frame = `event: data\ndata: ${JSON.stringify(message)}\n\n`;
    for (const res of this.streams) this.toStream(res, frame);
  };

  /** Writes to one event stream; a listener that does not read is dropped, not buffered for without end. */
  private toStream(res: http.ServerResponse, frame: string): void {
    if (res.writableLength > MAX_LISTENER_BACKLOG) {
      this.streams.delete(res);
      res.destroy();
    } else res.write(frame);
  }

  open(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.streams.size >= MAX_LISTENERS) throw new HttpError(503, `too many listeners (${MAX_LISTENERS})`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      Connection: 'keep-alive',
    });
    res.write(': smtpd-ts\n\n');
    this.streams.add(res);
    if (this.streams.size === 1) {
      this.inbox.on('new', this.onNew);
      this.keepalive = setInterval(() => {
        for (const r of this.streams) this.toStream(r, 'event: keepalive\ndata: \n\n');
      }, KEEPALIVE_MS).unref();
    }
    // The response's close is the listener's going: the request's may come as soon as its (empty) body is read.
    res.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size > 0) return;
      this.inbox.off('new', this.onNew);
      clearInterval(this.keepalive);
    });
  }

  /** Ends every stream and socket (at shutdown). */
  close(): void {
    clearInterval(this.keepalive);
    clearTimeout(this.statsTimer);
    for (const ws of this.sockets.clients) ws.terminate();
    this.sockets.close();
    this.inbox.off('new', this.onNew);
    this.inbox.off('new', this.onNewFrame);
    for (const res of this.streams) res.end();
  }
}
