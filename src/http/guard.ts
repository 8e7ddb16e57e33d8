/**
 * What keeps a page the developer happens to visit from reading their mail:
 * a request whose Host is neither the bound address nor a loopback name is
 * refused with 403 (DNS rebinding); a request that changes state from
 * another origin is refused with 403 unless `--http-cors` names it; with
 * `--http-auth-file`, basic auth (a CORS preflight carries no credentials,
 * so it needs none). Applied to every request and every WebSocket upgrade.
 */
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { HttpError } from '../errors.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header (`a:1` -> `a`, `[::1]:8025` -> `[::1]`), lower case. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim());
  return (m ? m[1]! : host).toLowerCase();
}

function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || /^127(?:\.\d{1,3}){3}$/.test(name) || name.endsWith('.localhost');
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

export interface GuardOptions {
  /** The address the inbox is bound to. */
  readonly host: string;
  /** Host names accepted besides loopback names and the bound address (`--http-allow-host`). */
  readonly allowHosts?: readonly string[];
  /** The one origin (or `*`) other pages may call the API from (`--http-cors`); none by default. */
  readonly corsOrigin?: string | null;
  /** Users and passwords for HTTP basic auth (`--http-auth-file`); none: no auth. */
  readonly users?: ReadonlyMap<string, string> | null;
}

export class RequestGuard {
  constructor(private readonly options: GuardOptions) {}

  /** Refuses what a page on another site could make a browser send here, and who lacks the password. */
  check(req: http.IncomingMessage, needsAuth = true): void {
    const host = req.headers.host ?? '';
    const name = hostName(host);
    const bound = hostName(this.options.host);
    const allowed = this.options.allowHosts ?? [];
    if (!isLoopbackName(name) && name !== bound && !allowed.includes(name))
      throw new HttpError(403, `forbidden: Host ${host || '(none)'} is not this server (see --http-allow-host)`);
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    const foreign = this.foreignOrigin(req);
    if (!safe && foreign !== null)
      throw new HttpError(403, `forbidden: a request from ${foreign} may not change this inbox`);
    const users = this.options.users;
    if (users && needsAuth && !authorized(req.headers.authorization, users))
      throw new HttpError(401, 'authentication required');
  }

  corsAllows(origin: string): boolean {
    const allowed = this.options.corsOrigin ?? null;
    return allowed === '*' || allowed === origin;
  }

  /** The CORS and auth headers of an answer to `req`. */
  answerHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
    const origin = req.headers.origin;
    if (origin !== undefined && this.corsAllows(origin)) {
      res.setHeader('Access-Control-Allow-Origin', this.options.corsOrigin === '*' ? '*' : origin);
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Vary', 'Origin');
    }
    if (this.options.users) res.setHeader('WWW-Authenticate', 'Basic realm="smtpd-ts", charset="UTF-8"');
  }

  /** A WebSocket upgrade: the checks of a request, and only our own origin (or none, or `--http-cors`'s). */
  checkUpgrade(req: http.IncomingMessage): void {
    this.check(req);
    // A page on another site may open a WebSocket to localhost.
    const foreign = this.foreignOrigin(req);
    if (foreign !== null) throw new HttpError(403, `forbidden: a page from ${foreign} may not follow this inbox`);
  }

  /** The request's Origin when it is another site's that `--http-cors` does not name; else null. */
  private foreignOrigin(req: http.IncomingMessage): string | null {
    const origin = req.headers.origin;
    if (origin === undefined || origin === `http://${req.headers.host ?? ''}` || this.corsAllows(origin)) return null;
    return origin;
  }
}
