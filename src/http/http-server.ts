/**
 * `--http`: the inbox over HTTP, in Mailpit's and MailHog's APIs, from the
 * store every accepted message is added to before its 250. The routes are
 * a table (ROUTES, one file per area in routes/) that the router serves.
 *
 * Safety: a page the developer happens to visit must not read their mail
 * (guard.ts, applied by the router to every request, and to every upgrade). Every response carries
 * a strict Content-Security-Policy, `X-Content-Type-Options: nosniff` and
 * `Referrer-Policy: no-referrer` (responses.ts). Bad requests get 400 or
 * 404 with one line of text; request bodies are bounded; work on mail is
 * bounded in size and time (json-stream.ts, view-pool.ts, search.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { ApiContext, HttpOptions } from './api-context.js';
import { RequestGuard } from './guard.js';
import { HttpError, SearchTimeoutError } from '../errors.js';
import { send } from './responses.js';
import { Router, RouteTable, type Route } from './router.js';
import { EVENT_ROUTES } from './routes/events.js';
import { METRICS_ROUTES } from './routes/metrics.js';
import { MAILHOG_ROUTES } from './routes/mailhog.js';
import { MAILPIT_ROUTES } from './routes/mailpit.js';
import { VIEW_ROUTES } from './routes/views.js';
import { WEB_UI_ROUTES } from './routes/web-ui.js';
import { InboxApi } from './inbox-api.js';

export type { HttpOptions };

/** Every route the inbox answers, by area (routes/); the OpenAPI document describes all but the web UI's. */
export const ROUTES: readonly Route<ApiContext>[] = [
  ...WEB_UI_ROUTES,
  ...MAILPIT_ROUTES,
  ...VIEW_ROUTES,
  ...MAILHOG_ROUTES,
  ...EVENT_ROUTES,
  ...METRICS_ROUTES,
];

/** The table compiled at import (so the ReDoS test sees every pattern it makes). */
const TABLE = new RouteTable(ROUTES);

export class InboxHttpServer {
  private readonly server: http.Server;
  private readonly router: Router<ApiContext>;
  /** What the routes share. */
  private readonly context: InboxApi;

  constructor(private readonly options: HttpOptions) {
    const guard = new RequestGuard(options);
    this.router = new Router(TABLE, guard, options.webroot);
    this.context = new InboxApi(options, guard);
    const timeouts = { requestTimeout: 30_000, headersTimeout: 10_000 };
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.router.serve(req, res, this.context).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : err instanceof SearchTimeoutError ? 503 : 500;
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
    };
    this.server = options.tls
      ? https.createServer({ ...timeouts, cert: options.tls.cert, key: options.tls.key }, handle)
      : http.createServer(timeouts, handle);
    // A client that sends garbage gets a 400 from Node and the connection closed; nothing else happens.
    this.server.on('clientError', (_err, socket) => socket.destroy());
    const webroot = options.webroot ?? '/';
    this.server.on('upgrade', (req, socket, head) => this.context.events.upgrade(req, socket, head, webroot));
  }

  /** The base URL (`http://127.0.0.1:8025`, `https://…/mail` under a webroot), once listening: no slash at the end. */
  get url(): string {
    const { address, port } = this.server.address() as net.AddressInfo;
    const scheme = this.options.tls ? 'https' : 'http';
    return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}${(this.options.webroot ?? '/').slice(0, -1)}`;
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
    this.context.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
