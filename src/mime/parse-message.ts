/**
 * The one place a message is parsed (with mailparser) for the `parsed` and
 * `json` formats, into a plain ParsedMessage those printers read.
 *
 * Attachments are streamed through SHA-256 and dropped, never kept, so the
 * memory a message costs stays proportional to its raw size plus its text.
 * What mailparser cannot parse (a header block over its 1 MiB limit, too many
 * parts) rejects with MessageParseError; the caller shows the message raw.
 */
import type {
  AddressObject,
  AttachmentStream,
  HeaderLines,
  Headers,
  MailParser as MailParserType,
  MessageText,
} from 'mailparser';
import { MessageParseError } from '../errors.js';
import type { Message } from '../message.js';
import { quickParse } from './quick-parse.js';
import { transferableUtf8 } from '../worker-pool.js';

/** A mailbox from an address header. Groups are flattened into their members. */
export interface ParsedAddress {
  /** Display name, decoded; empty when there is none. */
  readonly name: string;
  readonly address: string;
}

/** One header field as it came, in order, duplicates kept. */
export interface HeaderField {
  /** The name as written, e.g. `Subject`. */
  readonly name: string;
  /** The value, unfolded and read as UTF-8, encoded words (RFC 2047) left as sent. */
  readonly value: string;
}

/** What is known about an attachment; its bytes are hashed, never kept. */
export interface AttachmentSummary {
  readonly filename: string | null;
  readonly contentType: string;
  /** Decoded size in bytes. */
  readonly size: number;
  /** SHA-256 of the decoded content, lowercase hex. */
  readonly sha256: string;
  /** `attachment`, `inline`, ..., or null when the part had no Content-Disposition. */
  readonly disposition: string | null;
  /** The Content-ID, angle brackets included, or null. */
  readonly contentId: string | null;
}

/** A message as the parsed and json formats show it. */
export interface ParsedMessage {
  readonly headers: readonly HeaderField[];
  readonly messageId: string | null;
  /** Decoded (RFC 2047, any charset). */
  readonly subject: string | null;
  readonly from: readonly ParsedAddress[];
  readonly to: readonly ParsedAddress[];
  readonly cc: readonly ParsedAddress[];
  /** The Bcc header's addresses, then every envelope recipient named in neither To nor Cc. */
  readonly bcc: readonly ParsedAddress[];
  /** The Date header as ISO 8601 UTC, or null when missing or unreadable. */
  readonly date: string | null;
  /** The text/plain body, decoded (or the HTML as text when there is no plain part). */
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: readonly AttachmentSummary[];
}

/** The characters of the text a brief parse keeps: what a list's snippet reads (mailpit-shapes.ts). */
export const BRIEF_TEXT_CHARS = 64 * 1024;

/**
 * The parse without what makes it large: the text cut to BRIEF_TEXT_CHARS
 * and no HTML (addresses, subject, date and the attachments' summaries stay).
 * What a list of the inbox shows; cheap to hand from a worker to the
 * server's thread, where a 30 MiB text cost 200 ms to copy.
 */
export function briefParse(parsed: ParsedMessage): ParsedMessage {
  const { headers, messageId, subject, from, to, cc, bcc, date, attachments } = parsed;
  return { headers, messageId, subject, from, to, cc, bcc, date, attachments, text: textStart(parsed), html: null };
}

/**
 * The text's first BRIEF_TEXT_CHARS characters (null when it has none):
 * from its bytes when it has them, so the whole string is never made for it.
 */
export function textStart(parsed: ParsedMessage): string | null {
  const bytes = bodyBytes(parsed, 'text');
  // 4 bytes a character at most: the cut (if it splits one) lies past the characters kept.
  const text = bytes ? bytes.subarray(0, 4 * BRIEF_TEXT_CHARS).toString('utf8') : parsed.text;
  return text === null ? null : text.slice(0, BRIEF_TEXT_CHARS);
}

/** How long a parse may take before the message is shown raw instead. */
export const PARSE_TIMEOUT_MS = 10_000;

/** HTML longer than this is not converted to text (html-to-text is slow on huge documents). */
const MAX_HTML_TO_TEXT = 1 << 20;

/** What a parse reads of a message: its bytes, and its recipients (for Bcc). */
export type ParseInput = Pick<Message, 'data' | 'rcptTos'>;

/**
 * Parses `message.data`; rejects with MessageParseError. A plain text
 * message is read without mailparser (quick-parse.ts), to the same result.
 */
export async function parseMessage(message: ParseInput, timeoutMs = PARSE_TIMEOUT_MS): Promise<ParsedMessage> {
  return parseQuickly(message) ?? parseWithMailparser(message, timeoutMs);
}

/**
 * The parse of a plain text message, read without mailparser
 * (quick-parse.ts); null for anything that needs mailparser (MIME parts,
 * HTML, encodings), which a server may then parse elsewhere.
 */
export function parseQuickly(message: ParseInput): ParsedMessage | null {
  const quick = quickParse(message.data);
  if (quick === null) return null;
  const { fields, lines } = quick;
  const headers = lines.map(headerField);
  return {
    headers,
    messageId: fields.messageId,
    subject: fields.subject,
    from: fields.from,
    to: fields.to,
    cc: fields.cc,
    bcc: blindCopies(fields.bcc, [...fields.to, ...fields.cc], message.rcptTos),
    date: isoDate(headers),
    text: fields.text,
    html: null,
    attachments: [],
  };
}

/** Parses `message.data` with mailparser, whatever it holds; rejects with MessageParseError. */
export async function parseWithMailparser(message: ParseInput, timeoutMs = PARSE_TIMEOUT_MS): Promise<ParsedMessage> {
  // Loaded here, on first use, not at the top: mailparser and its
  // dependencies take a noticeable time to load, which `raw` and `headers`
  // users should not pay, and `import 'smtpd-ts'` must not load it at all.
  const { MailParser } = await import('mailparser');
  const parser = new MailParser({
    checksumAlgo: 'sha256',
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHtmlLengthToParse: MAX_HTML_TO_TEXT,
  });
  const raw = await run(parser, message.data, timeoutMs);
  return toParsedMessage(raw, message.rcptTos);
}

interface RawParse {
  headers: Headers;
  headerLines: HeaderLines;
  text: MessageText | undefined;
  attachments: AttachmentSummary[];
}

function run(parser: MailParserType, data: Buffer, timeoutMs: number): Promise<RawParse> {
  return new Promise((resolve, reject) => {
    const out: RawParse = { headers: new Map(), headerLines: [], text: undefined, attachments: [] };
    let settled = false;
    const settle = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === undefined) return resolve(out);
      // mailparser may go on after an error; nothing more is wanted from it.
      parser.destroy();
      reject(new MessageParseError(err instanceof Error ? err.message : String(err)));
    };
    const timer = setTimeout(() => settle(new Error(`parsing took longer than ${timeoutMs} ms`)), timeoutMs);
    parser.on('headers', (headers) => {
      out.headers = headers;
      out.headerLines = parser.headerLines || [];
    });
    parser.on('data', (part) => {
      if (part.type === 'text') out.text = part;
      else drainAttachment(part, out.attachments, settle);
    });
    parser.on('error', settle);
    parser.on('end', () => settle(undefined));
    parser.end(data);
  });
}

/** Reads an attachment to its end (mailparser hashes it on the way) and keeps its summary. */
function drainAttachment(part: AttachmentStream, into: AttachmentSummary[], fail: (err: unknown) => void): void {
  part.content.on('error', fail);
  part.content.on('end', () => {
    into.push({
      filename: text(part.filename),
      // mailparser gives `false` for an empty Content-Type; RFC 2045 5.2's default stands in.
      contentType: text(part.contentType) ?? 'text/plain',
      size: part.size ?? 0,
      sha256: part.checksum ?? '',
      disposition: text(part.contentDisposition),
      contentId: text(part.contentId),
    });
    part.release?.();
  });
  part.content.resume();
}

/** A non-empty string from mailparser, or null for anything else (it gives `false` or '' for some empty headers). */
function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function toParsedMessage(raw: RawParse, rcptTos: readonly string[]): ParsedMessage {
  const headers = raw.headerLines.map(({ line }) => headerField(line));
  const to = addresses(raw.headers.get('to'));
  const cc = addresses(raw.headers.get('cc'));
  const text = raw.text;
  return {
    headers,
    messageId: stringHeader(raw.headers.get('message-id')),
    subject: stringHeader(raw.headers.get('subject')),
    from: addresses(raw.headers.get('from')),
    to,
    cc,
    bcc: blindCopies(addresses(raw.headers.get('bcc')), [...to, ...cc], rcptTos),
    date: isoDate(headers),
    text: text?.text ?? null,
    html: text?.html ?? null,
    attachments: raw.attachments,
  };
}

/** Splits a raw header line (a binary string, folding included) into name and unfolded value. */
function headerField(line: string): HeaderField {
  const text = Buffer.from(line, 'latin1').toString('utf8');
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? '' : text.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '');
  return { name: name.trimEnd(), value: value.trim() };
}

function stringHeader(value: unknown): string | null {
  if (Array.isArray(value)) return stringHeader(value[0]);
  return typeof value === 'string' && value !== '' ? value : null;
}

/** mailparser's address objects (one per header occurrence) as a flat list of mailboxes. */
function addresses(value: unknown): ParsedAddress[] {
  if (value === undefined) return [];
  const objects = (Array.isArray(value) ? value : [value]) as AddressObject[];
  const out: ParsedAddress[] = [];
  const visit = (list: AddressObject['value']) => {
    for (const a of list) {
      if (a.group) visit(a.group);
      else out.push({ name: a.name ?? '', address: a.address ?? '' });
    }
  };
  for (const o of objects) visit(o.value ?? []);
  return out;
}

/** The Bcc header's mailboxes, then the envelope recipients no header names (the true blind copies). */
function blindCopies(bcc: ParsedAddress[], shown: ParsedAddress[], rcptTos: readonly string[]): ParsedAddress[] {
  const known = new Set([...shown, ...bcc].map((a) => a.address.toLowerCase()));
  const out = [...bcc];
  for (const rcpt of rcptTos) {
    if (known.has(rcpt.toLowerCase())) continue;
    known.add(rcpt.toLowerCase());
    out.push({ name: '', address: rcpt });
  }
  return out;
}

/**
 * The first Date header as ISO 8601. Read from the header itself: mailparser
 * puts the current time in place of a date it cannot read.
 */
function isoDate(headers: readonly HeaderField[]): string | null {
  const field = headers.find((h) => h.name.toLowerCase() === 'date');
  if (!field) return null;
  const date = new Date(field.value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * The decoded bytes of the attachment at `index` of `attachments` (the order
 * `parseMessage` lists them in), parsing the message again: the summaries
 * keep no content, so a test that wants a generated CSV or PDF asks for it.
 * Rejects with MessageParseError when there is no such attachment.
 */
export async function attachmentContent(data: Buffer, index: number): Promise<Buffer> {
  const { MailParser } = await import('mailparser');
  const parser = new MailParser({ skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  return new Promise((resolve, reject) => {
    let seen = 0;
    let found = false;
    parser.on('error', (err: Error) => reject(new MessageParseError(err.message)));
    parser.on('data', (part: AttachmentStream | MessageText) => {
      if (part.type !== 'attachment') return;
      const attachment = part;
      if (seen++ !== index) {
        attachment.content.resume();
        attachment.release?.();
        return;
      }
      found = true;
      const chunks: Buffer[] = [];
      attachment.content.on('data', (c: Buffer) => chunks.push(c));
      attachment.content.on('end', () => {
        attachment.release?.();
        resolve(Buffer.concat(chunks));
      });
    });
    parser.on('end', () => {
      if (!found) reject(new MessageParseError(`no attachment #${index} (the message has ${seen})`));
    });
    parser.end(data);
  });
}

/**
 * A body (text or HTML) at least this long is handed from a worker to the
 * server's thread as UTF-8 bytes, not as a string: a string of 30 million
 * characters costs about 90 ms to copy across (the structured clone) and
 * again to make from bytes, all of it on the thread every client shares;
 * bytes are transferred for nothing and read a piece at a time
 * (`bodyBytes`).
 */
export const LARGE_BODY_CHARS = 1 << 20;

/** The bytes behind a parse's bodies, for the parses `fromWire` made. */
const backing = new WeakMap<ParsedMessage, { readonly text: Buffer | null; readonly html: Buffer | null }>();

/**
 * The parse's `text` or `html` as UTF-8 bytes when it came from a worker as
 * bytes (null otherwise, or when it has none): what a reader that can take
 * bytes (a streamed JSON answer, a plain-text view) reads instead of the
 * string, which is made only when something asks for it.
 */
export function bodyBytes(parsed: ParsedMessage, which: 'text' | 'html'): Buffer | null {
  return backing.get(parsed)?.[which] ?? null;
}

/** A parse as a worker posts it: its large bodies as transferable bytes. */
export interface ParseOnWire {
  readonly parsed: Omit<ParsedMessage, 'text' | 'html'> & {
    readonly text: string | Uint8Array | null;
    readonly html: string | Uint8Array | null;
  };
  /** The buffers to transfer with it. */
  readonly transfer: ArrayBuffer[];
}

/** `parsed` for posting from a worker: text and HTML of LARGE_BODY_CHARS or more as UTF-8 bytes. */
export function toWire(parsed: ParsedMessage): ParseOnWire {
  const transfer: ArrayBuffer[] = [];
  const body = (s: string | null) => {
    if (s === null || s.length < LARGE_BODY_CHARS) return s;
    const bytes = transferableUtf8(s);
    transfer.push(bytes.buffer as ArrayBuffer);
    return bytes;
  };
  return { parsed: { ...parsed, text: body(parsed.text), html: body(parsed.html) }, transfer };
}

/**
 * A parse posted by `toWire`, on the receiving thread: a body that came as
 * bytes is decoded only when first read (then kept), and `bodyBytes` has
 * its bytes meanwhile.
 */
export function fromWire(wire: ParseOnWire['parsed']): ParsedMessage {
  const asBytes = (v: string | Uint8Array | null) =>
    v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null;
  const text = asBytes(wire.text);
  const html = asBytes(wire.html);
  if (!text && !html) return wire as ParsedMessage;
  const decoded: { text?: string | null; html?: string | null } = {};
  const parsed = { ...wire } as Record<string, unknown>;
  for (const [key, bytes] of [
    ['text', text],
    ['html', html],
  ] as const) {
    if (!bytes) continue;
    Object.defineProperty(parsed, key, {
      enumerable: true,
      get: () => (decoded[key] ??= bytes.toString('utf8')),
    });
  }
  const made = parsed as unknown as ParsedMessage;
  backing.set(made, { text, html });
  return made;
}
