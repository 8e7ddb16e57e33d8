/**
 * `--http`: the inbox over HTTP, in Mailpit's API v1 (mailpit-shapes.ts,
 * search.ts), from the store every accepted message is added to before
 * its 250.
 *
 * Safety: a page the developer happens to visit must not read their mail.
 * A request whose Host is neither the bound address nor a loopback name is
 * refused with 403 (DNS rebinding); a request that changes state from
 * another origin is refused with 403; there is no CORS. Every response
 * carries a strict Content-Security-Policy, `X-Content-Type-Options:
 * nosniff` and `Referrer-Policy: no-referrer`. Bad requests get 400 or 404
 * with one line of text; request bodies are bounded.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MessageStore, StoredMessage } from '../store/message-store.js';
import { VERSION } from '../version.js';
import { fullMessage, headersObject, messagesSummary, summary } from './mailpit-shapes.js';
import { searchPredicate } from './search.js';
import { mailhogMatches, mailhogMessage, mailhogPart } from './mailhog-shapes.js';
import { OPENAPI } from './openapi.js';
import { mimeParts } from './mime-parts.js';
import { buildSend, SendError, type Envelope } from './send.js';
import { previewCsp } from './html-view.js';
import { HttpError } from './http-error.js';
import { goFields, readBody, readJson } from './request-body.js';
import { ResponseBudget, writeJson } from './json-stream.js';
import { ViewPool } from './view-pool.js';
import { uiCsp, WebUi, type Asset } from './web-ui.js';

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header (`a:1` -> `a`, `[::1]:8025` -> `[::1]`), lower case. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim());
  return (m ? m[1]! : host).toLowerCase();
}

function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || /^127(?:\.\d{1,3}){3}$/.test(name) || name.endsWith('.localhost');
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Whether an Authorization header names a user with the right password (compared in constant time). */
function authorized(header: string | undefined, users: ReadonlyMap<string, string>): boolean {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const expected = users.get(decoded.slice(0, colon));
  if (expected === undefined) return false;
  const [a, b] = [Buffer.from(decoded.slice(colon + 1)), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A JSON answer: in one piece when small, streamed with backpressure when the mail makes it large. */
const json = (res: http.ServerResponse, value: unknown, type = 'application/json') => writeJson(res, value, type);
/** MailHog answers its lists and messages as `text/json`. */
const MAILHOG_JSON = 'text/json';
const text = (res: http.ServerResponse, body: string) => send(res, 200, 'text/plain; charset=utf-8', body);

/** A non-negative integer query parameter, or `fallback` (Mailpit ignores what is not one). */
function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  if (value === null || !/^\d+$/.test(value)) return fallback;
  return Math.min(Number(value), Number.MAX_SAFE_INTEGER);
}

/** The path with %-escapes decoded; a malformed one is a bad request. */
function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'malformed %-escape in the path');
  }
}

/** MailHog's start and limit: positive integers only, the limit 50 by default and 250 at most. */
function mailhogStartLimit(url: URL): { start: number; limit: number } {
  const start = intParam(url, 'start', 0);
  const limit = intParam(url, 'limit', 50);
  return { start, limit: limit === 0 ? 50 : Math.min(limit, 250) };
}

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly store: MessageStore;
  /** The host name in MailHog's message IDs (`ID@hostname`). */
  readonly hostname: string;
  readonly log?: NodeJS.WritableStream;
  /** Host names accepted besides loopback names and the bound address (`--http-allow-host`). */
  readonly allowHosts?: readonly string[];
  /** The one origin (or `*`) other pages may call the API from (`--http-cors`); none by default. */
  readonly corsOrigin?: string | null;
  /** Users and passwords for HTTP basic auth (`--http-auth-file`); none: no auth. */
  readonly users?: ReadonlyMap<string, string> | null;
  /**
   * Delivers a message as if received over SMTP (to every output and the
   * inbox); resolves with its inbox entry, rejects with the refusal. Absent:
   * `POST /api/v1/send` is not offered.
   */
  readonly submit?: (envelope: Envelope, data: Buffer, peer: string) => Promise<StoredMessage>;
  /**
   * `--store`: the ids a Mailpit search matches, newest first, answered by the
   * database; absent: the search runs over the store in memory.
   */
  readonly search?: (query: string) => Promise<readonly string[]>;
  /** Sends a stored message on to `to` through the relay's upstream; rejects with SendError. Absent: no release. */
  readonly release?: (entry: StoredMessage, to: readonly string[], peer: string) => Promise<void>;
}

/** The largest `POST /api/v1/send` body (attachments come base64 inside it). */
const MAX_SEND_BYTES = 32 * 1024 * 1024;

/** What the sender wrote (a part, a downloaded message) served as bytes: sandboxed, never a page of this origin. */
const SANDBOX_CSP = "default-src 'none'; sandbox";

/**
 * A Content-Disposition naming a file (RFC 6266): the name in ASCII, the
 * rest as `_`, in `filename`, and whole in `filename*` (RFC 8187's
 * `UTF-8''%..`) when it is not ASCII. A header value cannot hold anything
 * else: a raw non-Latin-1 name made Node throw (500).
 */
export function dispositionOf(type: '' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const extended =
    fallback === name
      ? ''
      : `; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
  return `${type === '' ? '' : `${type}; `}filename="${fallback}"${extended}`;
}

/** 200 with `body`, its type, and optionally a Content-Disposition and a CSP of its own. */
function sendBytes(
  res: http.ServerResponse,
  body: Buffer,
  how: { readonly type: string; readonly disposition?: string; readonly csp?: string },
): void {
  if (how.csp) res.setHeader('Content-Security-Policy', how.csp);
  res.writeHead(200, {
    'Content-Type': how.type,
    ...(how.disposition ? { 'Content-Disposition': how.disposition } : {}),
    'Content-Length': body.length,
  });
  res.end(body);
}

/** Bytes of stored mail that responses in flight may turn into strings at once (see `heavy`). */
export const RESPONSE_BUDGET_BYTES = 64 * 1024 * 1024;

/** Event listeners of each kind (MailHog's streams, Mailpit's WebSockets) at once. */
export const MAX_LISTENERS = 64;

/** What may wait unread for one listener before it is dropped, in bytes. */
export const MAX_LISTENER_BACKLOG = 1024 * 1024;

/** The most of a message a MailHog event carries. */
const EVENT_MAX_BYTES = 256 * 1024;

/** How long one search may walk the inbox before it answers 503. */
const SEARCH_DEADLINE_MS = 30_000;

/** How often an idle event stream gets a keep-alive, in ms (MailHog: 30 s). */
const KEEPALIVE_MS = 30_000;

export class InboxHttpServer {
  private readonly server: http.Server;
  private readonly startedAt = Date.now();
  /** Open MailHog event streams (`/api/v1/events`). */
  private readonly streams = new Set<http.ServerResponse>();
  private keepalive: NodeJS.Timeout | undefined;
  /** Mailpit's WebSocket event stream (`/api/events`). */
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private statsTimer: NodeJS.Timeout | undefined;
  /** The web UI's files; null when the bundle was not built. */
  private readonly ui = WebUi.load();
  /** Parses of large messages and previews of large HTML, off this thread. */
  private readonly views = new ViewPool();
  /** Mail that responses in flight may hold as strings. */
  private readonly budget = new ResponseBudget(RESPONSE_BUDGET_BYTES);

  constructor(private readonly options: HttpOptions) {
    this.server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        // A bug is said in full on the sink's stderr; the client gets one line that tells nothing of the internals.
        if (status === 500)
          options.log?.write(
            `smtpd-ts: HTTP ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
          );
        const message = status === 500 ? 'internal error (the sink says more on its stderr)' : (err as Error).message;
        // The rest of a body too large is not read: the connection cannot be used again.
        if (status === 413) res.setHeader('Connection', 'close');
        if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${message.split('\n')[0]}\n`);
        else res.destroy();
      });
    });
    // A client that sends garbage gets a 400 from Node and the connection closed; nothing else happens.
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    const store = options.store;
    store.parser = (message) => this.views.parse(message);
    // The frames are built only when someone listens: the SMTP path pays nothing otherwise
    // (a new message's summary needs its parse).
    store.on('new', (e: StoredMessage) => {
      if (this.sockets.clients.size === 0) return;
      void store.load(e).then(() => this.broadcast('new', () => summary(e)));
    });
    store.on('update', (e: StoredMessage) => this.broadcast('update', () => ({ ID: e.id, Read: e.read })));
    // Mailpit says `delete` for a message deleted, `prune` (no data) for one dropped past the bounds.
    // (everything deleted at once is one `truncate`).
    store.on('removed', (e: StoredMessage, reason: 'deleted' | 'pruned' | 'cleared') => {
      if (reason === 'deleted') this.broadcast('delete', () => ({ ID: e.id }));
      else if (reason === 'pruned') this.broadcast('prune', () => null);
    });
    store.on('truncate', () => this.broadcast('truncate', () => null));
  }

  /** `/api/events`: a WebSocket, for a request from this server's own pages or from outside a browser. */
  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    try {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/api/events')
        throw new HttpError(404, '404 page not found');
      this.guard(req);
      // A page on another site may open a WebSocket to localhost: only our own origin (or none) may.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}` && !this.corsAllows(origin))
        throw new HttpError(403, `forbidden: a page from ${origin} may not follow this inbox`);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, 'bad request');
      socket.end(
        `HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${e.message}\n`,
      );
      return;
    }
    if (this.sockets.clients.size >= MAX_LISTENERS) {
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ntoo many listeners (${MAX_LISTENERS})\n`,
      );
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', () => {});
      // Messages from the client are not read (Mailpit's are pings).
      ws.on('message', () => {});
    });
  }

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
      this.statsTimer = undefined;
      const store = this.options.store;
      this.broadcast('stats', () => ({ Total: store.size, Unread: store.unread, Version: `smtpd-ts ${VERSION}` }));
    }, 250).unref();
  }

  /** The base URL (`http://127.0.0.1:8025`), once listening. */
  get url(): string {
    const { address, port } = this.server.address() as net.AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    void this.views.close();
    clearInterval(this.keepalive);
    clearTimeout(this.statsTimer);
    for (const ws of this.sockets.clients) ws.terminate();
    this.sockets.close();
    this.options.store.off('new', this.onNew);
    for (const res of this.streams) res.end();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** MailHog's event stream: each new message as `event: data`, a keep-alive every 30 s. */
  private readonly onNew = (entry: StoredMessage): void => {
    if (this.streams.size === 0) return;
    // A large message's event carries its first EVENT_MAX_BYTES (MailHog's UI only lists it; GET reads it whole).
    const data = entry.message.data;
    const shown =
      data.length <= EVENT_MAX_BYTES
        ? entry
        : ({ id: entry.id, message: { ...entry.message, data: data.subarray(0, EVENT_MAX_BYTES) } } as StoredMessage);
    const frame = `event: data\ndata: ${JSON.stringify(mailhogMessage(shown, this.options.hostname))}\n\n`;
    for (const res of this.streams) this.toStream(res, frame);
  };

  /** Writes to one event stream; a listener that does not read is dropped, not buffered for without end. */
  private toStream(res: http.ServerResponse, frame: string): void {
    if (res.writableLength > MAX_LISTENER_BACKLOG) {
      this.streams.delete(res);
      res.destroy();
    } else res.write(frame);
  }

  private openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.streams.size >= MAX_LISTENERS) throw new HttpError(503, `too many listeners (${MAX_LISTENERS})`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      Connection: 'keep-alive',
    });
    res.write(': smtpd-ts\n\n');
    this.streams.add(res);
    if (this.streams.size === 1) {
      this.options.store.on('new', this.onNew);
      this.keepalive = setInterval(() => {
        for (const r of this.streams) this.toStream(r, 'event: keepalive\ndata: \n\n');
      }, KEEPALIVE_MS).unref();
    }
    req.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size > 0) return;
      this.options.store.off('new', this.onNew);
      clearInterval(this.keepalive);
    });
  }

  /** Refuses what a page on another site could make a browser send here, and who lacks the password. */
  private guard(req: http.IncomingMessage, needsAuth = true): void {
    const host = req.headers.host ?? '';
    const name = hostName(host);
    const bound = hostName(this.options.host);
    const allowed = this.options.allowHosts ?? [];
    if (!isLoopbackName(name) && name !== bound && !allowed.includes(name))
      throw new HttpError(403, `forbidden: Host ${host || '(none)'} is not this server (see --http-allow-host)`);
    const origin = req.headers.origin;
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (!safe && origin !== undefined && origin !== `http://${host}` && !this.corsAllows(origin))
      throw new HttpError(403, `forbidden: a request from ${origin} may not change this inbox`);
    const users = this.options.users;
    if (users && needsAuth && !authorized(req.headers.authorization, users))
      throw new HttpError(401, 'authentication required');
  }

  private corsAllows(origin: string): boolean {
    const allowed = this.options.corsOrigin ?? null;
    return allowed === '*' || allowed === origin;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined && this.corsAllows(origin)) {
      res.setHeader('Access-Control-Allow-Origin', this.options.corsOrigin === '*' ? '*' : origin);
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Vary', 'Origin');
    }
    if (this.options.users) res.setHeader('WWW-Authenticate', 'Basic realm="smtpd-ts", charset="UTF-8"');
    // A CORS preflight carries no credentials (the browser never sends them on one): answered before auth.
    this.guard(req, req.method !== 'OPTIONS');
    if (req.method === 'OPTIONS') return text(res, '');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const store = this.options.store;
    const asset = req.method === 'GET' ? this.ui?.get(url.pathname) : undefined;
    if (asset) return this.sendAsset(req, res, asset, url.pathname === '/');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
        throw new HttpError(404, 'the web UI is not built (npm run build); the API is at /api/v1/messages');
      case 'GET /livez':
      case 'GET /readyz':
        return text(res, '');
      case 'GET /api/v1/info':
        return json(res, this.info());
      case 'GET /api/v1/swagger.json':
        return json(res, OPENAPI);
      case 'GET /api/v1/webui':
        // Mailpit's web UI configuration: release only with an upstream; no SpamAssassin, no chaos here.
        return json(res, {
          Label: 'smtpd-ts',
          MessageRelay: { Enabled: this.options.release !== undefined },
          SpamAssassin: false,
          ChaosEnabled: false,
          DuplicatesIgnored: false,
          HideDeleteAllButton: false,
        });
      case 'GET /api/v1/tags':
        // Mailpit's tags are our mailboxes.
        return json(
          res,
          store.mailboxes().map((m) => m.name),
        );
      case 'GET /api/v1/messages':
        return json(res, await messagesSummary(store, intParam(url, 'start', 0), intParam(url, 'limit', 50)));
      case 'PUT /api/v1/messages': {
        const {
          Read: read,
          IDs: chosen,
          Search: search,
        } = goFields(await readBody(req), {
          Read: 'boolean',
          IDs: 'string[]',
          Search: 'string',
        });
        if (chosen.length > 0 && search !== '')
          throw new HttpError(400, 'You may specify either IDs or a search query, not both');
        const targets =
          search !== ''
            ? await this.matching(search)
            : chosen.length > 0
              ? chosen.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined)
              : store.list(0, store.size);
        for (const e of targets) store.setRead(e, read);
        return text(res, 'ok');
      }
      case 'DELETE /api/v1/messages': {
        // Mailpit: no IDs (or no body) deletes everything. The empty body satisfies MailHog's clients too.
        const body = await readBody(req);
        const chosen = body === undefined ? [] : goFields(body, { IDs: 'string[]' }).IDs;
        if (chosen.length === 0) store.clear();
        else for (const id of chosen) store.remove(id);
        return text(res, '');
      }
      case 'GET /api/v1/search': {
        const found = await this.matching(url.searchParams.get('query') ?? '');
        return json(res, await messagesSummary(store, intParam(url, 'start', 0), intParam(url, 'limit', 50), found));
      }
      case 'POST /api/v1/send': {
        const submit = this.options.submit;
        if (!submit) throw new HttpError(404, '404 page not found');
        try {
          const built = await buildSend(await readJson(req, MAX_SEND_BYTES));
          const entry = await submit(built.envelope, built.data, req.socket.remoteAddress ?? '');
          return json(res, { ID: entry.id });
        } catch (err) {
          // Mailpit answers a message it will not send with a JSON error.
          if (err instanceof SendError)
            return send(res, 400, 'application/json', `${JSON.stringify({ Error: err.message })}\n`);
          throw err;
        }
      }
      case 'GET /api/v2/messages': {
        const { start, limit } = mailhogStartLimit(url);
        const page = store.list(start, limit);
        return this.heavy(page, () => json(res, this.mailhogResult(store.size, start, page), MAILHOG_JSON));
      }
      case 'GET /api/v2/search': {
        const { start, limit } = mailhogStartLimit(url);
        const query = url.searchParams.get('query') ?? '';
        const matches = mailhogMatches(url.searchParams.get('kind') ?? '', query);
        if (matches === null || query === '') return send(res, 400, 'text/plain; charset=utf-8', '');
        if (query.includes('\0')) throw new HttpError(400, 'a search cannot hold NUL');
        const all = await store.filter(matches, SEARCH_DEADLINE_MS);
        if (all === null) throw new HttpError(503, 'the search took too long; narrow it');
        const page = all.slice(start, start + limit);
        return this.heavy(page, () => json(res, this.mailhogResult(all.length, start, page)));
      }
      case 'GET /api/v1/events':
        return this.openStream(req, res);
      case 'DELETE /api/v1/search': {
        for (const e of await this.matching(url.searchParams.get('query') ?? '')) store.remove(e.id);
        return text(res, 'ok');
      }
    }
    const view = /^\/view\/([A-Za-z0-9]+)\.(html|txt)$/.exec(url.pathname);
    if (view && req.method === 'GET') {
      const entry = store.get(view[1]!);
      if (!entry) throw new HttpError(404, 'Message not found');
      await store.load(entry);
      if (view[2] === 'txt') return text(res, entry.parsed?.text ?? '');
      const html = entry.parsed?.html;
      if (!html) throw new HttpError(404, 'Message does not contain HTML');
      const cleaned = await this.views.preview(entry.id, entry.message.data, html, entry.parsed?.text ?? null);
      res.setHeader('X-DNS-Prefetch-Control', 'off');
      return sendBytes(res, Buffer.from(cleaned.html), {
        type: 'text/html; charset=utf-8',
        csp: previewCsp(url.searchParams.get('remote') === '1'),
      });
    }
    const release = /^\/api\/v1\/message\/([A-Za-z0-9]+)\/release$/.exec(url.pathname);
    if (release && req.method === 'POST') {
      const entry = store.get(release[1]!);
      if (!entry) throw new HttpError(404, '404 page not found');
      const relay = this.options.release;
      if (!relay) throw new HttpError(400, 'message relay is not enabled: start smtpd-ts with --relay HOST:PORT');
      const body = await readJson(req);
      const to = Array.isArray(body['To']) ? body['To'] : [];
      for (const address of to)
        if (typeof address !== 'string' || !/^[^\s@<>]+@[^\s@<>]+$/.test(address))
          throw new HttpError(400, `Invalid email address: ${String(address)}`);
      if (to.length === 0) throw new HttpError(400, 'No valid addresses found');
      try {
        await relay(entry, to as string[], req.socket.remoteAddress ?? '');
      } catch (err) {
        if (err instanceof SendError) throw new HttpError(400, err.message);
        throw err;
      }
      return text(res, 'ok');
    }
    const part = /^\/api\/v1\/message\/([A-Za-z0-9]+)\/part\/([0-9]+(?:\.[0-9]+)*)$/.exec(url.pathname);
    if (part && req.method === 'GET') {
      const entry = store.get(part[1]!);
      const found = entry ? mimeParts(entry.message.data).find((p) => p.partId === part[2]) : undefined;
      if (!found) throw new HttpError(404, '404 page not found');
      return sendBytes(res, found.content, {
        type: found.contentType || 'application/octet-stream',
        disposition: dispositionOf('', found.fileName),
        csp: SANDBOX_CSP,
      });
    }
    const m = /^\/api\/v1\/message\/([A-Za-z0-9]+)(\/headers|\/raw)?$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const entry = store.get(m[1]!);
      if (!entry) throw new HttpError(404, m[1] === 'latest' ? 'no messages' : '404 page not found');
      if (m[2] === '/raw' && url.searchParams.get('dl') === '1')
        return sendBytes(res, entry.message.data, {
          type: 'message/rfc822',
          disposition: `attachment; filename="${entry.id}.eml"`,
          csp: SANDBOX_CSP,
        });
      if (m[2] === '/raw') return send(res, 200, 'text/plain; charset=utf-8', entry.message.data);
      if (m[2] === '/headers') return json(res, headersObject(entry.message.data));
      store.setRead(entry, true);
      return this.heavy([entry], async () => {
        await store.load(entry);
        const html = entry.parsed?.html;
        const remote = html
          ? (await this.views.preview(entry.id, entry.message.data, html, entry.parsed?.text ?? null)).remote
          : 0;
        await json(res, fullMessage(entry, remote));
      });
    }
    // MailHog's message routes: its ID is ours with `@hostname`.
    const path = decodePath(url.pathname);
    const mimePart = /^\/api\/v1\/messages\/([A-Za-z0-9]+)(?:@[^/]*)?\/mime\/part\/([0-9]+)\/download$/.exec(path);
    if (mimePart && req.method === 'GET') {
      const entry = store.get(mimePart[1]!);
      const piece = entry ? mailhogPart(entry, Number(mimePart[2])) : null;
      if (!entry || !piece) throw new HttpError(404, '404 page not found');
      return sendBytes(res, piece.body, {
        type: piece.type,
        disposition: `attachment; filename="${entry.id}-part-${mimePart[2]}"`,
        csp: SANDBOX_CSP,
      });
    }
    const h = /^\/api\/v1\/messages\/([A-Za-z0-9]+)(?:@[^/]*)?(\/download)?$/.exec(path);
    if (h) {
      const entry = store.get(h[1]!);
      if (!entry || h[1] === 'latest') throw new HttpError(404, '404 page not found');
      if (req.method === 'DELETE' && !h[2]) {
        store.remove(entry.id);
        return send(res, 200, MAILHOG_JSON, '');
      }
      if (req.method === 'GET' && h[2]) {
        return sendBytes(res, entry.message.data, {
          type: 'message/rfc822',
          disposition: `attachment; filename="${entry.id}.eml"`,
        });
      }
      if (req.method === 'GET')
        return this.heavy([entry], () => json(res, mailhogMessage(entry, this.options.hostname), MAILHOG_JSON));
    }
    throw new HttpError(404, '404 page not found');
  }

  /** The messages a Mailpit search matches, newest first: by the database with --store, else in memory. */
  private async matching(query: string): Promise<StoredMessage[]> {
    const store = this.options.store;
    if (query.trim() === '') throw new HttpError(400, 'no search query');
    if (query.includes('\0')) throw new HttpError(400, 'a search cannot hold NUL');
    const predicate = searchPredicate(query);
    if (typeof predicate === 'string') throw new HttpError(400, predicate);
    if (!this.options.search) {
      const found = await store.filter(predicate, SEARCH_DEADLINE_MS);
      if (found === null) throw new HttpError(503, 'the search took too long; narrow it');
      return found;
    }
    const ids = await this.options.search(query);
    return ids.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined);
  }

  /**
   * Runs `work`, which turns `entries` into strings, within the budget of
   * mail that responses in flight may hold (json-stream.ts): a request
   * waits its turn, or is told to come back when too many wait.
   */
  private async heavy(entries: readonly StoredMessage[], work: () => Promise<void>): Promise<void> {
    // MailHog's shapes hold a message about twice (its text and its parts), and the JSON pieces are small.
    const bytes = entries.reduce((n, e) => n + 2 * e.message.data.length, 0);
    const release = await this.budget.take(bytes);
    if (!release) throw new HttpError(503, 'too many large messages are being read at once; try again');
    try {
      await work();
    } finally {
      release();
    }
  }

  /** A file of the web UI, gzipped when the browser takes it; the page gets the UI's CSP. */
  private sendAsset(req: http.IncomingMessage, res: http.ServerResponse, asset: Asset, page: boolean): void {
    if (page) res.setHeader('Content-Security-Policy', uiCsp(req.headers.host ?? ''));
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, {
      'Content-Type': asset.type,
      'Content-Length': body.length,
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(body);
  }

  private mailhogResult(total: number, start: number, page: readonly StoredMessage[]): Record<string, unknown> {
    return {
      total,
      count: page.length,
      start,
      items: page.map((e) => mailhogMessage(e, this.options.hostname)),
    };
  }

  /** Mailpit's AppInformation. */
  private info(): Record<string, unknown> {
    const store = this.options.store;
    return {
      Version: `smtpd-ts ${VERSION}`,
      LatestVersion: '',
      Database: '',
      DatabaseSize: 0,
      Messages: store.size,
      Unread: store.unread,
      Tags: Object.fromEntries(store.mailboxes().map((m) => [m.name, m.total])),
      RuntimeStats: {
        Uptime: Math.floor((Date.now() - this.startedAt) / 1000),
        Memory: process.memoryUsage().rss,
        MessagesDeleted: store.deletedCount,
        SMTPAccepted: store.size + store.deletedCount,
        SMTPAcceptedSize: 0,
        SMTPRejected: 0,
        SMTPIgnored: 0,
      },
    };
  }
}
