/**
 * What a request says: query parameters and the path, read as Mailpit and
 * MailHog read them, and bodies: read within a bound, parsed as JSON, and the fields of
 * Mailpit's bulk requests read as Go's encoding/json reads them into its
 * structs: a key matches a field in any case, a value of the wrong type is
 * an error (400), `null` leaves the field empty. Mailpit's DELETE
 * /api/v1/messages deletes everything when its body does not decode; here a
 * body that is not what the route takes is a 400 instead, so a client's bug
 * cannot empty an inbox: only no body, `{}` or no IDs means all.
 */
import type http from 'node:http';
import { HttpError } from '../errors.js';

/** The largest request body read, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a body of at most `max` bytes as JSON; an empty body is `undefined`. */
export async function readBody(req: http.IncomingMessage, max = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `request body over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks).toString('utf8').trim();
  if (body === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

/** Whether `value` is an address Mailpit's and MailHog's send and release take: local@domain, no spaces or <>. */
export const isMailAddress = (value: unknown): value is string =>
  typeof value === 'string' && /^[^\s@<>]+@[^\s@<>]+$/.test(value);

/** A body read as a JSON object (empty: `{}`); anything else is taken as `{}`, as the send route always did. */
export function jsonObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

type FieldType = 'string' | 'boolean' | 'string[]';
type FieldValue<T extends FieldType> = T extends 'string' ? string : T extends 'boolean' ? boolean : string[];

/**
 * The fields of a Go struct read from `body`: each named field (any case,
 * the last key that matches wins, as in Go), its zero value when absent or
 * null. A body that is not an object, or a field of another type, is a 400
 * naming it.
 */
export function goFields<S extends Record<string, FieldType>>(
  body: unknown,
  spec: S,
): { [K in keyof S]: FieldValue<S[K]> } {
  if (body === undefined) throw new HttpError(400, 'EOF');
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(spec)) out[name] = type === 'string' ? '' : type === 'boolean' ? false : [];
  if (body === null) return out as { [K in keyof S]: FieldValue<S[K]> };
  if (typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, `json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into the request`);
  for (const [key, value] of Object.entries(body)) {
    const name = Object.keys(spec).find((n) => n.toLowerCase() === key.toLowerCase());
    if (name === undefined || value === null) continue;
    const type = spec[name]!;
    const ok =
      type === 'string[]' ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === type;
    if (!ok) throw new HttpError(400, `json: cannot unmarshal ${key} (want ${type.replace('[]', ' list')})`);
    out[name] = value;
  }
  return out as { [K in keyof S]: FieldValue<S[K]> };
}

/** A non-negative integer query parameter, or `fallback` (Mailpit ignores what is not one). */
export function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  if (value === null || !/^\d+$/.test(value)) return fallback;
  return Math.min(Number(value), Number.MAX_SAFE_INTEGER);
}

/** The path with %-escapes decoded; a malformed one is a bad request. */
export function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'malformed %-escape in the path');
  }
}

/** MailHog's start and limit: positive integers only, the limit 50 by default and 250 at most. */
export function mailhogStartLimit(url: URL): { start: number; limit: number } {
  const start = intParam(url, 'start', 0);
  const limit = intParam(url, 'limit', 50);
  return { start, limit: limit === 0 ? 50 : Math.min(limit, 250) };
}
