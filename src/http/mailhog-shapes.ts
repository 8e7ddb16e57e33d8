/**
 * MailHog's JSON (mailhog/data message.go, MailHog-Server api/v1.go and
 * v2.go), built from a stored message as MailHog builds it from the SMTP
 * transaction, so that MailHog's published clients (`mailhog` on npm,
 * `cypress-mailhog`) read smtpd-ts unchanged: the headers as MailHog's
 * ContentFromString reads them (the last value of a repeated header, a
 * folded line joined without its line break), its split of multipart
 * bodies at the boundary, and the Message-ID, Received and Return-Path
 * headers MailHog adds.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { InboxSearch } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import { likeContaining } from '../inbox/search.js';
import { Deferred, Utf8Text } from './json-stream.js';
import { rfc3339 } from './mailpit-shapes.js';

export interface MailhogPath {
  readonly Relays: string[] | null;
  readonly Mailbox: string;
  readonly Domain: string;
  readonly Params: string;
}

export interface MailhogContent {
  readonly Headers: Record<string, string[]>;
  readonly Body: string;
  readonly Size: number;
  readonly MIME: { readonly Parts: MailhogContent[] } | null;
}

/** PathFromString: `relay,relay:mailbox@domain`. */
export function mailhogPath(path: string): MailhogPath {
  let email = path;
  let relays: string[] | null = null;
  const colon = path.indexOf(':');
  if (colon >= 0) {
    relays = path.slice(0, colon).split(',');
    email = path.slice(colon + 1);
  }
  const at = email.indexOf('@');
  return {
    Relays: relays,
    Mailbox: at >= 0 ? email.slice(0, at) : email,
    Domain: at >= 0 ? email.slice(at + 1) : '',
    Params: '',
  };
}

/**
 * How deep MailHog's split goes, and how many parts it makes in all: MailHog
 * recurses without a bound, and 4,000 nested multiparts (280 KB) made its
 * list answer 500 for everyone. Deeper parts stay whole, as a leaf.
 */
const MAX_DEPTH = 20;
const MAX_PARTS = 1000;

/** ContentFromString's headers: the last value of a repeated one, a folded line joined without its break. */
function headerFields(block: string): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  let last = '';
  for (const line of block.split('\r\n')) {
    if (last !== '' && (line.startsWith(' ') || line.startsWith('\t'))) {
      const values = headers[last]!;
      values[values.length - 1] += line;
    } else if (line.includes(': ')) {
      const at = line.indexOf(': ');
      last = line.slice(0, at);
      headers[last] = [line.slice(at + 2)];
    }
  }
  return headers;
}

/** ContentFromString: headers (last value wins), body after the first empty line, size in bytes. */
export function contentFromString(data: string, depth = 0, budget = { parts: MAX_PARTS }): MailhogContent {
  const split = data.indexOf('\r\n\r\n');
  if (split < 0) return { Headers: {}, Body: data, Size: Buffer.byteLength(data), MIME: null };
  const headers = headerFields(data.slice(0, split));
  const content = { Headers: headers, Body: data.slice(split + 4), Size: Buffer.byteLength(data), MIME: null };
  return isMultipart(content) && depth < MAX_DEPTH && budget.parts > 0
    ? { ...content, MIME: { Parts: mimeParts(content, depth, budget) } }
    : content;
}

function isMultipart(content: MailhogContent): boolean {
  return (content.Headers['Content-Type']?.[0] ?? '').startsWith('multipart/');
}

/** The boundary parameter of a Content-Type, as Go's mime.ParseMediaType gives it; '' when none. */
function boundary(contentType: string): string {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const value = param.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return '';
}

/** ParseMIMEBody: the body split at `--boundary`, every non-empty piece trimmed of CR and LF and read again. */
function mimeParts(content: MailhogContent, depth: number, budget: { parts: number }): MailhogContent[] {
  const b = boundary(content.Headers['Content-Type']?.[0] ?? '');
  if (b === '') return [];
  const out: MailhogContent[] = [];
  for (const piece of content.Body.split(`--${b}`)) {
    if (piece.length === 0) continue;
    if (--budget.parts < 0) break;
    out.push(contentFromString(trimLineBreaks(piece), depth + 1, budget));
  }
  return out;
}

/** Go's strings.Trim(s, "\r\n"), without a backtracking pattern. */
function trimLineBreaks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === '\r' || s[start] === '\n')) start++;
  while (end > start && (s[end - 1] === '\r' || s[end - 1] === '\n')) end--;
  return s.slice(start, end);
}

/** The first value of a header of `content`, its name in any case. */
function headerOf(content: MailhogContent, name: string): string | undefined {
  return Object.entries(content.Headers).find(([k]) => k.toLowerCase() === name)?.[1][0];
}

/**
 * The Nth of MailHog's MIME parts (counted from 0) as its download gives it:
 * the part's Content-Type and its body, base64 decoded; null when there is none.
 */
export function mailhogPart(entry: StoredMessage, n: number): { type: string; body: Buffer } | null {
  const piece = contentFromString(entry.message.data.toString('utf8')).MIME?.Parts[n];
  if (!piece) return null;
  const base64 = (headerOf(piece, 'content-transfer-encoding') ?? '').toLowerCase() === 'base64';
  const body = base64 ? Buffer.from(piece.Body.replace(/\s+/g, ''), 'base64') : Buffer.from(piece.Body);
  return { type: headerOf(piece, 'content-type') ?? 'application/octet-stream', body };
}

/** Messages this large that are not multipart keep their body as bytes in MailHog's shape (`lazyContent`). */
const LAZY_BYTES = 1 << 20;

/** A MailHog content whose body (and raw data) are written from the bytes as they are decoded. */
type LazyContent = Omit<MailhogContent, 'Body'> & { readonly Body: Utf8Text };

/**
 * ContentFromString for a large message that is not multipart, without
 * making a string of it: the header block decoded, the body left as bytes
 * (Size is then its length in bytes, as Go's len). Null for a multipart
 * message, whose split needs the text.
 */
function lazyContent(data: Buffer): LazyContent | null {
  const split = data.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const headers = headerFields(data.toString('utf8', 0, split));
  const content = { Headers: headers, Body: new Utf8Text(data.subarray(split + 4)), Size: data.length, MIME: null };
  return isMultipart({ ...content, Body: '' }) ? null : content;
}

/** The message as MailHog's API gives it (`data.Message`). */
export function mailhogMessage(entry: StoredMessage, hostname: string, maxBytes = Infinity): Record<string, unknown> {
  const m = entry.message;
  const id = `${entry.id}@${hostname}`;
  // An event carries a large message's start only (`maxBytes`); the API reads it whole.
  const bytes = m.data.subarray(0, Math.min(m.data.length, maxBytes));
  const lazy = bytes.length >= LAZY_BYTES ? lazyContent(bytes) : null;
  const text = lazy ? null : bytes.toString('utf8');
  const content: MailhogContent | LazyContent = lazy ?? contentFromString(text!);
  const headers = { ...content.Headers };
  const has = (name: string) => Object.keys(headers).find((k) => k.toLowerCase() === name);
  if (!has('message-id')) headers['Message-ID'] = [id];
  const received = `from ${m.helo} by ${hostname} (smtpd-ts)\r\n          id ${id}; ${m.receivedAt.toUTCString()}`;
  const receivedKey = has('received') ?? 'Received';
  headers[receivedKey] = [...(headers[receivedKey] ?? []), received];
  const returnPathKey = has('return-path') ?? 'Return-Path';
  headers[returnPathKey] = [...(headers[returnPathKey] ?? []), `<${m.mailFrom}>`];
  return {
    ID: id,
    From: mailhogPath(m.mailFrom),
    To: m.rcptTos.map(mailhogPath),
    Content: { ...content, Headers: headers, MIME: null },
    Created: rfc3339(m.receivedAt),
    MIME: content.MIME,
    Raw: { From: m.mailFrom, To: m.rcptTos, Data: text ?? new Utf8Text(bytes), Helo: m.helo },
  };
}

/** A page holding this much mail or more is made message by message as it is written. */
const DEFER_BYTES = 1 << 20;

/**
 * MailHog's list and search answer: a page of messages and the counts, each
 * message made as it is written (json-stream.ts): a page of large messages
 * is never built whole on one turn.
 */
export function mailhogMessages(
  total: number,
  start: number,
  page: readonly StoredMessage[],
  hostname: string,
): Record<string, unknown> {
  const bytes = page.reduce((n, e) => n + e.message.data.length, 0);
  const make = (e: StoredMessage) => mailhogMessage(e, hostname);
  const items = bytes < DEFER_BYTES ? page.map(make) : page.map((e) => new Deferred(() => make(e)));
  return { total, count: page.length, start, items };
}

/**
 * MailHog's search kinds (its in-memory storage): `from`, `to`,
 * `containing`, case-insensitive, as the inbox takes a search (a test, and
 * the same as SQL over the table's columns); null for another kind.
 */
export function mailhogSearch(kind: string, query: string): InboxSearch | null {
  const test = mailhogMatches(kind, query);
  if (test === null) return null;
  const sql = (first: number) => {
    const like = `$${first}`;
    const where =
      kind === 'from'
        ? `(lower(mail_from) LIKE ${like} OR from_text LIKE ${like})`
        : kind === 'to'
          ? `(lower(array_to_string(rcpt_to, ' ')) LIKE ${like} OR to_text LIKE ${like})`
          : // The bytes as text (non-ASCII bytes as \ooo escapes), as MailHog searches the whole message.
            `lower(encode(raw, 'escape')) LIKE ${like}`;
    return { where, params: [likeContaining(query.toLowerCase())] };
  };
  return { test, sql };
}

/** The bytes of a message `containing` reads as text at once; a larger one is read in slices of this. */
const CONTAINING_SLICE = 1 << 20;

/**
 * Whether the message, as lower-case text, contains `q`: a large one a
 * slice at a time (each overlapping the last by the query's length), with
 * a turn of the event loop between slices; the whole of a 30 MiB message
 * at once held every client for 250 ms.
 */
function containing(data: Buffer, q: string): boolean | Promise<boolean> {
  if (data.length <= CONTAINING_SLICE) return data.toString('utf8').toLowerCase().includes(q);
  // The overlap in bytes: a match cut by a slice's end lies whole in the next slice.
  const overlap = Buffer.byteLength(q) * 4;
  return (async () => {
    for (let at = 0; at < data.length; at += CONTAINING_SLICE) {
      const slice = data.subarray(at === 0 ? 0 : at - overlap, at + CONTAINING_SLICE);
      if (slice.toString('utf8').toLowerCase().includes(q)) return true;
      await nextTurn();
    }
    return false;
  })();
}

function mailhogMatches(kind: string, query: string): InboxSearch['test'] | null {
  const q = query.toLowerCase();
  const headerOf = (e: StoredMessage, name: string) =>
    (e.parsed?.headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value) ?? []).join(', ').toLowerCase();
  switch (kind) {
    case 'from':
      return (e) => e.message.mailFrom.toLowerCase().includes(q) || headerOf(e, 'from').includes(q);
    case 'to':
      return (e) => e.message.rcptTos.some((r) => r.toLowerCase().includes(q)) || headerOf(e, 'to').includes(q);
    case 'containing':
      return (e) => containing(e.message.data, q);
    default:
      return null;
  }
}
