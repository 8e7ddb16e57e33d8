/**
 * The inbox's route table: each route is one line (method, path, handler,
 * and what it needs), in one file per area (routes/). The router applies
 * the guards to every request before any handler runs, by construction:
 * the security headers, CORS, Host, Origin and auth (guard.ts), and the
 * bound on a request body, which only a route that declares one is given.
 * The OpenAPI document is checked against the same table by a test.
 */
import type http from 'node:http';
import { HttpError } from '../errors.js';
import type { RequestGuard } from './guard.js';
import { decodePath, MAX_BODY_BYTES, readBody } from './request.js';
import { SECURITY_HEADERS, text } from './responses.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One request, as a route's handler gets it. */
export interface Call<Context> {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  /** The path's parameters by name (`{ID}` is `params.ID`). */
  readonly params: Readonly<Record<string, string>>;
  /** The request body read as JSON (undefined when empty), for a route that declares `body`; else undefined. */
  readonly body: unknown;
  /** What the handlers share: the inbox, its options, the workers (http-server.ts). */
  readonly context: Context;
}

export interface Route<Context> {
  readonly method: Method;
  /**
   * As the OpenAPI document writes it: `/api/v1/message/{ID}/part/{PartID}`;
   * each `{Name}` matches PARAMS[Name] (or the route's own `params`).
   */
  readonly path: string;
  readonly handle: (call: Call<Context>) => unknown;
  /** The largest request body the route reads, in bytes; absent: none is read. */
  readonly body?: number;
  /** Matched against the path with its %-escapes decoded (MailHog's `ID@host`). */
  readonly decoded?: boolean;
  /** Patterns of its own for some parameters. */
  readonly params?: Readonly<Record<string, string>>;
}

/** What each path parameter matches unless the route says otherwise. */
const PARAMS: Readonly<Record<string, string>> = {
  ID: '[A-Za-z0-9]+',
  PartID: '[0-9]+(?:\\.[0-9]+)*',
  N: '[0-9]+',
  Asset: '[A-Za-z0-9._-]+',
  // A tag as its route's decoded path holds it (spaces, dots, @); cleaned where it is used.
  Tag: '[^/]{1,200}',
};

/** The bound of a route that takes a body and names none. */
export const JSON_BODY = MAX_BODY_BYTES;

interface Compiled<Context> {
  readonly route: Route<Context>;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile<Context>(route: Route<Context>): Compiled<Context> {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[A-Za-z]+\})/)
    .map((piece) => {
      const name = /^\{([A-Za-z]+)\}$/.exec(piece)?.[1];
      if (name === undefined) return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = route.params?.[name] ?? PARAMS[name];
      if (pattern === undefined) throw new Error(`route ${route.path}: no pattern for {${name}}`);
      names.push(name);
      return `(${pattern})`;
    })
    .join('');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** A route table with its paths compiled to patterns: made once, when the module that holds the routes loads. */
export class RouteTable<Context> {
  /** @internal */
  readonly compiled: readonly Compiled<Context>[];

  constructor(readonly routes: readonly Route<Context>[]) {
    this.compiled = routes.map(compile);
  }
}

export class Router<Context> {
  private readonly compiled: readonly Compiled<Context>[];

  /**
   * @param webroot the path every route is under (`/mail/`: a slash at each end); `/` for none
   */
  constructor(
    table: RouteTable<Context>,
    private readonly guard: RequestGuard,
    private readonly webroot = '/',
  ) {
    this.compiled = table.compiled;
  }

  /**
   * Answers `req`: the guards first, then the route its method and path
   * match (404 when none does). Rejects with what the handler threw.
   */
  async serve(req: http.IncomingMessage, res: http.ServerResponse, context: Context): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    this.guard.answerHeaders(req, res);
    // A CORS preflight carries no credentials (the browser never sends them on one): answered before auth.
    this.guard.check(req, req.method !== 'OPTIONS');
    if (req.method === 'OPTIONS') return text(res, '');
    // A path is prefixed, not resolved against a base: `//view/x.html` is a path here, not a host.
    const target = req.url ?? '/';
    const url = target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target, 'http://localhost');
    // As Go's ServeMux (Mailpit's router): a path not in its clean form is sent to it with 301.
    const clean = url.pathname.replace(/\/{2,}/g, '/');
    if (clean !== url.pathname) {
      res.writeHead(301, { Location: `${clean}${url.search}`, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Moved Permanently\n');
      return;
    }
    if (this.webroot !== '/') {
      // `--http-webroot /mail/`: `/mail` is sent to `/mail/`, anything outside it is not here.
      if (url.pathname === this.webroot.slice(0, -1)) {
        res.writeHead(301, { Location: `${this.webroot}${url.search}`, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Moved Permanently\n');
        return;
      }
      if (!url.pathname.startsWith(this.webroot))
        throw new HttpError(404, `404 page not found (the inbox is at ${this.webroot})`);
      url.pathname = url.pathname.slice(this.webroot.length - 1);
    }
    const found = this.match(req.method ?? '', url.pathname);
    if (!found) throw new HttpError(404, '404 page not found');
    const { route, params } = found;
    const body = route.body === undefined ? undefined : await readBody(req, route.body);
    await route.handle({ req, res, url, params, body, context });
  }

  /** The route for a method and path, with its parameters; null when none matches. */
  match(method: string, pathname: string): { route: Route<Context>; params: Record<string, string> } | null {
    let decoded: string | undefined;
    for (const { route, pattern, names } of this.compiled) {
      if (route.method !== method) continue;
      const m = pattern.exec(route.decoded ? (decoded ??= decodePath(pathname)) : pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => (params[name] = m[i + 1]!));
      return { route, params };
    }
    return null;
  }
}
