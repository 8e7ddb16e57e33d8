/**
 * How the inbox answers: the headers every answer carries, plain text, JSON
 * (streamed when the mail makes it large: json-stream.ts), and bytes the
 * sender wrote (parts, downloads), sandboxed and named by RFC 6266.
 */
import type http from 'node:http';
import { writeJson } from './json-stream.js';

/** Every answer's headers: nothing of this origin runs, frames or leaks a referrer. */
export const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

export function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A JSON answer: in one piece when small, streamed with backpressure when the mail makes it large. */
export const json = (res: http.ServerResponse, value: unknown, type = 'application/json') =>
  writeJson(res, value, type);
/** MailHog answers its lists and messages as `text/json`. */
export const MAILHOG_JSON = 'text/json';
/** 200 with plain text. */
export const text = (res: http.ServerResponse, body: string | Buffer) =>
  send(res, 200, 'text/plain; charset=utf-8', body);

/** What the sender wrote (a part, a downloaded message) served as bytes: sandboxed, never a page of this origin. */
export const SANDBOX_CSP = "default-src 'none'; sandbox";

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
export function sendBytes(
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
