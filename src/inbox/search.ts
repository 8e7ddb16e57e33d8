/**
 * Mailpit's search language (its internal/storage/search.go), as a
 * predicate on stored messages: words and "quoted phrases" match anywhere
 * in the subject, the addresses and the text; `to:`, `from:`, `cc:`,
 * `bcc:`, `reply-to:`, `addressed:` (to, cc or bcc), `subject:`,
 * `message-id:`, `tag:` (the mailbox), `is:read`, `is:unread`, `has:attachment`, `after:` and
 * `before:` (the time received), `larger:` and `smaller:` (10k, 2M) narrow
 * it; `-` or `!` before a term negates it. Every term must hold. Case does
 * not matter.
 */
import type { ParsedMessage } from '../mime/parse-message.js';
import type { Message } from '../message.js';
import type { StoredMessage } from './message-store.js';
import type { InboxSearch } from './inbox.js';
import { slices } from '../slices.js';

/** The most terms a query may have; a query of thousands of negated words held the sink for a minute. */
export const MAX_SEARCH_TERMS = 32;

/** The longest query, in characters. */
export const MAX_SEARCH_CHARS = 4096;

/**
 * What a search reads of a message: a stored one (message-store.ts), or
 * one the library's sink received (sink.ts's `waitFor` with a query).
 */
export type Searchable = Pick<StoredMessage, 'parsed' | 'mailbox' | 'tags' | 'read'> & {
  readonly message: Pick<Message, 'mailFrom' | 'receivedAt' | 'data'>;
};

type Test = (e: Searchable) => boolean;

/** One term of a query, lower case: `key:value` (key '' for a word or phrase), `-` or `!` before it negating it. */
interface Term {
  readonly negated: boolean;
  readonly key: string;
  readonly value: string;
  /** The whole term, for a `key:` that is no key (it is searched for as written). */
  readonly text: string;
}

/** The query's terms: words, "quoted phrases", and `key:value` or `key:"quoted value"`. */
function terms(query: string): Term[] {
  const out: Term[] = [];
  const re = /[-!]?(?:[a-z-]+:)?"[^"]*"?|\S+/gi;
  for (const m of query.trim().matchAll(re)) {
    const raw = m[0].replaceAll('"', '');
    const negated = raw.length > 1 && (raw[0] === '-' || raw[0] === '!');
    const text = (negated ? raw.slice(1) : raw).toLowerCase();
    const colon = text.indexOf(':');
    out.push({
      negated,
      key: colon > 0 ? text.slice(0, colon) : '',
      value: colon > 0 ? text.slice(colon + 1) : text,
      text,
    });
  }
  return out;
}

const lower = (s: string | null | undefined) => (s ?? '').toLowerCase();

function addressesOf(p: ParsedMessage | null, fields: readonly ('from' | 'to' | 'cc' | 'bcc')[]): string {
  if (!p) return '';
  return fields
    .flatMap((f) => p[f])
    .map((a) => `${a.name} <${a.address}>`)
    .join(', ')
    .toLowerCase();
}

const addresses = (e: Searchable, fields: readonly ('from' | 'to' | 'cc' | 'bcc')[]) => addressesOf(e.parsed, fields);

function replyTo(e: Searchable): string {
  return lower(e.parsed?.headers.find((h) => h.name.toLowerCase() === 'reply-to')?.value);
}

/** `10k`, `2M`, `512` as bytes, or NaN. */
function size(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(value);
  if (!m) return NaN;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/**
 * What a free word is looked for in, lower case: the subject, the
 * addresses, the text, the HTML and the envelope sender. Made once per
 * parse and kept while the parse is (a query of many words reads each
 * message's text once, not once a word); a large parse's is made as UTF-8
 * bytes where the parse was made (`searchBytes`, in the view worker), so
 * the server's thread never lower-cases 30 MiB of text.
 */
export function searchText(p: ParsedMessage, mailFrom: string): string {
  return [p.subject, addressesOf(p, ['from', 'to', 'cc', 'bcc']), p.text, p.html, mailFrom]
    .map((part) => lower(part))
    .join('\n');
}

const haystacks = new WeakMap<ParsedMessage, string | Buffer>();

/** The characters lower-cased at once when the search text is made as bytes. */
const SEARCH_SLICE_CHARS = 1 << 20;

/**
 * `searchText` as UTF-8 bytes, for a parse made in a worker: given with it
 * to `keepSearchBytes` on the other side. Lower-cased and encoded a slice
 * at a time, so making it holds little more than the parse itself (the
 * whole lower-cased string, then joined, was three copies of a 30 MiB text).
 */
export function searchBytes(p: ParsedMessage, mailFrom: string): Buffer {
  const parts = [p.subject, addressesOf(p, ['from', 'to', 'cc', 'bcc']), p.text, p.html, mailFrom];
  const pieces: Buffer[] = [];
  parts.forEach((part, i) => {
    if (i > 0) pieces.push(Buffer.from('\n'));
    for (const slice of slices([part ?? ''], SEARCH_SLICE_CHARS)) pieces.push(Buffer.from(slice.toLowerCase()));
  });
  // One buffer of its own (never a slice of Node's pool), so that it can be transferred.
  const bytes = Buffer.allocUnsafeSlow(pieces.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const piece of pieces) at += piece.copy(bytes, at);
  return bytes;
}

/** Keeps `bytes` (made by `searchBytes` in a worker) as what a free word is looked for in `p`. */
export function keepSearchBytes(p: ParsedMessage, bytes: Uint8Array): void {
  haystacks.set(p, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function haystack(e: Searchable): string | Buffer {
  const p = e.parsed;
  if (!p) return lower(e.message.mailFrom);
  let text = haystacks.get(p);
  if (text === undefined) {
    text = searchText(p, e.message.mailFrom);
    haystacks.set(p, text);
  }
  return text;
}

function anywhere(e: Searchable, word: string): boolean {
  const h = haystack(e);
  return typeof h === 'string' ? h.includes(word) : h.includes(word, 0, 'utf8');
}

function test({ key, value, text }: Term): Test {
  switch (key) {
    case 'from':
      return (e) => addresses(e, ['from']).includes(value) || lower(e.message.mailFrom).includes(value);
    case 'to':
      return (e) => addresses(e, ['to']).includes(value);
    case 'cc':
      return (e) => addresses(e, ['cc']).includes(value);
    case 'bcc':
      return (e) => addresses(e, ['bcc']).includes(value);
    case 'addressed':
      return (e) => addresses(e, ['to', 'cc', 'bcc']).includes(value);
    case 'reply-to':
      return (e) => replyTo(e).includes(value);
    case 'subject':
      return (e) => lower(e.parsed?.subject).includes(value);
    case 'message-id':
      return (e) => lower(e.parsed?.messageId).replace(/^<|>$/g, '') === value.replace(/^<|>$/g, '');
    case 'tag':
      // A message's tags, and its mailbox, which shows among them.
      return (e) => (e.mailbox ?? '').toLowerCase() === value || e.tags.some((t) => t.toLowerCase() === value);
    case 'is':
      if (value === 'read') return (e) => e.read;
      if (value === 'unread') return (e) => !e.read;
      break;
    case 'has':
      if (value === 'attachment' || value === 'attachments') return (e) => (e.parsed?.attachments.length ?? 0) > 0;
      break;
    case 'after':
    case 'before': {
      // A date such as 2025-04-30 or 2025-04-30T12:00:00Z; one that does not parse is ignored, as Mailpit does.
      const at = Date.parse(value.toUpperCase());
      if (Number.isNaN(at)) return () => true;
      return key === 'after'
        ? (e) => e.message.receivedAt.getTime() >= at
        : (e) => e.message.receivedAt.getTime() <= at;
    }
    case 'larger':
    case 'smaller': {
      const bytes = size(value);
      if (Number.isNaN(bytes)) break;
      return key === 'larger' ? (e) => e.message.data.length > bytes : (e) => e.message.data.length < bytes;
    }
  }
  return (e) => anywhere(e, text);
}

/**
 * The predicate of a Mailpit search query (every term must hold), or why
 * the query is refused: over MAX_SEARCH_CHARS or MAX_SEARCH_TERMS distinct
 * terms (a repeated term is tested once).
 */
export function searchPredicate(query: string): Test | string {
  if (query.length > MAX_SEARCH_CHARS) return `a search is at most ${MAX_SEARCH_CHARS} characters`;
  const distinct = new Map<string, Term>();
  for (const t of terms(query)) distinct.set(`${t.negated ? '-' : ''}${t.text}`, t);
  if (distinct.size > MAX_SEARCH_TERMS) return `a search has at most ${MAX_SEARCH_TERMS} terms`;
  const tests = [...distinct.values()].map((t) => {
    const inner = test(t);
    return t.negated ? (e: Searchable) => !inner(e) : inner;
  });
  return (e) => tests.every((t) => t(e));
}

/** A LIKE pattern for a substring, its wildcards escaped (with the default escape, backslash). */
export function likeContaining(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The same language as SQL for `--store`'s table (src/inbox/postgres-inbox.ts):
 * a WHERE clause over its summary columns with its parameters, numbered
 * from `$first`. Free words and phrases go to PostgreSQL's full-text search
 * (the `words` column: subject, addresses, text), whole words rather than
 * the embedded store's substrings; the rest as the predicate reads them.
 */
export function searchSql(query: string, first = 1): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  const clause = ({ key, value, text }: Term): string => {
    switch (key) {
      case 'from':
        return `(from_text LIKE ${p(likeContaining(value))} OR lower(mail_from) LIKE ${p(likeContaining(value))})`;
      case 'to':
      case 'cc':
      case 'bcc':
        return `${key}_text LIKE ${p(likeContaining(value))}`;
      case 'addressed': {
        const v = p(likeContaining(value));
        return `(to_text LIKE ${v} OR cc_text LIKE ${v} OR bcc_text LIKE ${v})`;
      }
      case 'reply-to':
        return `reply_to_text LIKE ${p(likeContaining(value))}`;
      case 'subject':
        return `lower(subject) LIKE ${p(likeContaining(value))}`;
      case 'message-id':
        return `message_id = ${p(value.replace(/^<|>$/g, ''))}`;
      case 'tag': {
        const v = p(value);
        return `(lower(coalesce(mailbox, '')) = ${v} OR EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = ${v}))`;
      }
      case 'is':
        if (value === 'read') return 'read';
        if (value === 'unread') return 'NOT read';
        break;
      case 'has':
        if (value === 'attachment' || value === 'attachments') return 'attachments > 0';
        break;
      case 'after':
      case 'before': {
        const at = Date.parse(value.toUpperCase());
        if (Number.isNaN(at)) return 'true';
        return `received_at ${key === 'after' ? '>=' : '<='} ${p(new Date(at))}`;
      }
      case 'larger':
      case 'smaller': {
        const bytes = size(value);
        if (Number.isNaN(bytes)) break;
        return `size ${key === 'larger' ? '>' : '<'} ${p(bytes)}`;
      }
    }
    return `words @@ phraseto_tsquery('simple', ${p(text)})`;
  };
  const clauses = terms(query).map((t) => (t.negated ? `NOT (${clause(t)})` : clause(t)));
  return { where: clauses.length > 0 ? clauses.join(' AND ') : 'true', params };
}

/**
 * Why a search is refused for holding NUL, or null: PostgreSQL's text cannot
 * hold it, so every backend refuses it, and every search language (Mailpit's,
 * MailHog's) alike.
 */
export function nulRefusal(query: string): string | null {
  return query.includes('\0') ? 'a search cannot hold NUL' : null;
}

/**
 * A Mailpit search as the inbox takes it (inbox.ts): its test and the same
 * as SQL; or why it is refused (empty, NUL, too long, too many terms).
 */
export function mailpitSearch(query: string): InboxSearch | string {
  if (query.trim() === '') return 'no search query';
  const nul = nulRefusal(query);
  if (nul !== null) return nul;
  const test = searchPredicate(query);
  if (typeof test === 'string') return test;
  return { test, sql: (first) => searchSql(query, first) };
}
