/**
 * `--http`: the inbox over HTTP, in Mailpit's API v1 (mailpit-shapes.ts,
 * search.ts), from the store every accepted message is added to before
 * its 250.
 *
 * Safety: a page the developer happens to visit must not read their mail
 * (guard.ts, applied to every request and upgrade). Every response carries
 * a strict Content-Security-Policy, `X-Content-Type-Options: nosniff` and
 * `Referrer-Policy: no-referrer` (responses.ts). Bad requests get 400 or
 * 404 with one line of text; request bodies are bounded; work on mail is
 * bounded in size and time (json-stream.ts, view-pool.ts, search.ts).
 */
import http from 'node:http';
import type net from 'node:net';
import type { MessageStore, StoredMessage } from '../store/message-store.js';
import { EventStreams } from './event-streams.js';
import { RequestGuard, type GuardOptions } from './guard.js';
import { appInformation, fullMessage, headersObject, messagesSummary } from './mailpit-shapes.js';
import { searchPredicate } from './search.js';
import { mailhogMatches, mailhogMessage, mailhogMessages, mailhogPart } from './mailhog-shapes.js';
import { OPENAPI } from './openapi.js';
import { mimeParts } from './mime-parts.js';
import { buildSend, SendError, type Envelope } from './send.js';
import { previewCsp } from './html-view.js';
import { HttpError } from '../errors.js';
import { decodePath, goFields, intParam, mailhogStartLimit, readBody, readJson } from './request.js';
import { ResponseBudget } from './json-stream.js';
import {
  dispositionOf,
  json,
  MAILHOG_JSON,
  SANDBOX_CSP,
  SECURITY_HEADERS,
  send,
  sendBytes,
  text,
} from './responses.js';
import { ViewPool } from './view-pool.js';
import { uiCsp, WebUi, type Asset } from './web-ui.js';

/** The inbox's address and store, who may call it (GuardOptions), and what it can do besides reading. */
export interface HttpOptions extends GuardOptions {
  readonly port: number;
  readonly store: MessageStore;
  /** The host name in MailHog's message IDs (`ID@hostname`). */
  readonly hostname: string;
  readonly log?: NodeJS.WritableStream;
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

/** Bytes of stored mail that responses in flight may turn into strings at once (see `heavy`). */
export const RESPONSE_BUDGET_BYTES = 64 * 1024 * 1024;

/** How long one search may walk the inbox before it answers 503. */
const SEARCH_DEADLINE_MS = 30_000;

/** A search holding NUL is a bad request, whatever the store (PostgreSQL's text cannot hold it). */
function refuseNul(query: string): void {
  if (query.includes('\0')) throw new HttpError(400, 'a search cannot hold NUL');
}

export class InboxHttpServer {
  private readonly server: http.Server;
  private readonly startedAt = Date.now();
  /** The web UI's files; null when the bundle was not built. */
  private readonly ui = WebUi.load();
  /** Parses of large messages and previews of large HTML, off this thread. */
  private readonly views = new ViewPool();
  /** Mail that responses in flight may hold as strings. */
  private readonly budget = new ResponseBudget(RESPONSE_BUDGET_BYTES);
  private readonly guard: RequestGuard;
  private readonly events: EventStreams;

  constructor(private readonly options: HttpOptions) {
    this.guard = new RequestGuard(options);
    this.events = new EventStreams(options.store, options.hostname, this.guard);
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
    this.server.on('upgrade', (req, socket, head) => this.events.upgrade(req, socket, head));
    options.store.parser = (message) => this.views.parse(message);
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
    this.events.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.guard.answerHeaders(req, res);
    // A CORS preflight carries no credentials (the browser never sends them on one): answered before auth.
    this.guard.check(req, req.method !== 'OPTIONS');
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
        return json(res, appInformation(store, this.startedAt));
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
        return this.heavy(page, () =>
          json(res, mailhogMessages(store.size, start, page, this.options.hostname), MAILHOG_JSON),
        );
      }
      case 'GET /api/v2/search': {
        const { start, limit } = mailhogStartLimit(url);
        const query = url.searchParams.get('query') ?? '';
        const matches = mailhogMatches(url.searchParams.get('kind') ?? '', query);
        if (matches === null || query === '') return send(res, 400, 'text/plain; charset=utf-8', '');
        const all = await this.filtered(query, matches);
        const page = all.slice(start, start + limit);
        return this.heavy(page, () => json(res, mailhogMessages(all.length, start, page, this.options.hostname)));
      }
      case 'GET /api/v1/events':
        return this.events.open(req, res);
      case 'DELETE /api/v1/search': {
        for (const e of await this.matching(url.searchParams.get('query') ?? '')) store.remove(e.id);
        return text(res, 'ok');
      }
    }
    const view = /^\/view\/([A-Za-z0-9]+)\.(html|txt)$/.exec(url.pathname);
    if (view && req.method === 'GET') {
      const entry = store.get(view[1]!);
      if (!entry) throw new HttpError(404, 'Message not found');
      // The parse and the cleaned HTML are the message's size again: within the budget, as the JSON routes.
      return this.heavy([entry], async () => {
        await store.load(entry);
        if (view[2] === 'txt') return text(res, entry.parsed?.text ?? '');
        const preview = this.views.preview(entry);
        if (!preview) throw new HttpError(404, 'Message does not contain HTML');
        const cleaned = await preview;
        res.setHeader('X-DNS-Prefetch-Control', 'off');
        sendBytes(res, Buffer.from(cleaned.html), {
          type: 'text/html; charset=utf-8',
          csp: previewCsp(url.searchParams.get('remote') === '1'),
        });
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
        await json(res, fullMessage(entry, (await this.views.preview(entry))?.remote ?? 0));
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
    const predicate = searchPredicate(query);
    if (typeof predicate === 'string') throw new HttpError(400, predicate);
    if (!this.options.search) return this.filtered(query, predicate);
    refuseNul(query);
    const ids = await this.options.search(query);
    return ids.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined);
  }

  /** The stored messages `matches` accepts, newest first, walked in slices: 503 past the deadline. */
  private async filtered(query: string, matches: (e: StoredMessage) => boolean): Promise<StoredMessage[]> {
    refuseNul(query);
    const found = await this.options.store.filter(matches, SEARCH_DEADLINE_MS);
    if (found === null) throw new HttpError(503, 'the search took too long; narrow it');
    return found;
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
}
