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
import http from 'node:http';
import type net from 'node:net';
import type { MessageStore, StoredMessage } from '../store/message-store.js';
import { VERSION } from '../version.js';
import { fullMessage, headersObject, messagesSummary } from './mailpit-shapes.js';
import { searchPredicate } from './search.js';

/** The largest request body read, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const json = (res: http.ServerResponse, value: unknown) =>
  send(res, 200, 'application/json', `${JSON.stringify(value)}\n`);
const text = (res: http.ServerResponse, body: string) => send(res, 200, 'text/plain; charset=utf-8', body);

/** A non-negative integer query parameter, or `fallback` (Mailpit ignores what is not one). */
function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  if (value === null || !/^\d+$/.test(value)) return fallback;
  return Math.min(Number(value), Number.MAX_SAFE_INTEGER);
}

/** Reads a JSON body (at most MAX_BODY_BYTES); an empty body is `{}`. */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks).toString('utf8').trim();
  if (body === '') return {};
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

function ids(body: Record<string, unknown>): string[] {
  const list = body['IDs'] ?? body['ids'];
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly store: MessageStore;
  readonly log?: NodeJS.WritableStream;
}

export class InboxHttpServer {
  private readonly server: http.Server;
  private readonly startedAt = Date.now();

  constructor(private readonly options: HttpOptions) {
    this.server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (status === 500) options.log?.write(`smtpd-ts: HTTP ${req.method} ${req.url}: ${message}\n`);
        if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${message.split('\n')[0]}\n`);
        else res.destroy();
      });
    });
    // A client that sends garbage gets a 400 from Node and the connection closed; nothing else happens.
    this.server.on('clientError', (_err, socket) => socket.destroy());
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
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Refuses what a page on another site could make a browser send here. */
  private guard(req: http.IncomingMessage): void {
    const host = req.headers.host ?? '';
    const name = hostName(host);
    const bound = hostName(this.options.host);
    if (!isLoopbackName(name) && name !== bound)
      throw new HttpError(403, `forbidden: Host ${host || '(none)'} is not this server`);
    const origin = req.headers.origin;
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (!safe && origin !== undefined && origin !== `http://${host}`)
      throw new HttpError(403, `forbidden: a request from ${origin} may not change this inbox`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.guard(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const store = this.options.store;
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /livez':
      case 'GET /readyz':
        return text(res, '');
      case 'GET /api/v1/info':
        return json(res, this.info());
      case 'GET /api/v1/messages':
        return json(res, messagesSummary(store, intParam(url, 'start', 0), intParam(url, 'limit', 50)));
      case 'PUT /api/v1/messages': {
        const body = await readJson(req);
        const read = body['Read'] === true || body['read'] === true;
        const search = typeof body['Search'] === 'string' ? body['Search'] : '';
        const chosen = ids(body);
        if (chosen.length > 0 && search !== '')
          throw new HttpError(400, 'You may specify either IDs or a search query, not both');
        const targets =
          search !== ''
            ? store.filter(searchPredicate(search))
            : chosen.length > 0
              ? chosen.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined)
              : store.filter(() => true);
        for (const e of targets) store.setRead(e, read);
        return text(res, 'ok');
      }
      case 'DELETE /api/v1/messages': {
        // Mailpit: no IDs (or no body) deletes everything. The empty body satisfies MailHog's clients too.
        const chosen = ids(await readJson(req));
        if (chosen.length === 0) store.clear();
        else for (const id of chosen) store.remove(id);
        return text(res, '');
      }
      case 'GET /api/v1/search': {
        const query = url.searchParams.get('query') ?? '';
        if (query.trim() === '') throw new HttpError(400, 'no search query');
        const matches = searchPredicate(query);
        return json(res, messagesSummary(store, intParam(url, 'start', 0), intParam(url, 'limit', 50), matches));
      }
      case 'DELETE /api/v1/search': {
        const query = url.searchParams.get('query') ?? '';
        if (query.trim() === '') throw new HttpError(400, 'no search query');
        for (const e of store.filter(searchPredicate(query))) store.remove(e.id);
        return text(res, 'ok');
      }
    }
    const m = /^\/api\/v1\/message\/([A-Za-z0-9]+)(\/headers|\/raw)?$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const entry = store.get(m[1]!);
      if (!entry) throw new HttpError(404, m[1] === 'latest' ? 'no messages' : '404 page not found');
      if (m[2] === '/raw') return send(res, 200, 'text/plain; charset=utf-8', entry.message.data);
      if (m[2] === '/headers') return json(res, headersObject(entry.message.data));
      store.setRead(entry, true);
      return json(res, fullMessage(entry));
    }
    throw new HttpError(404, '404 page not found');
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
      Tags: {},
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
