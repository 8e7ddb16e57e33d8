/**
 * The parse of a plain message without mailparser: one text/plain part in
 * UTF-8 or ASCII, 7bit or 8bit, headers in ASCII with no encoded word, no
 * punycode and address lists of the plain kind (`a@b`, `Name <a@b>`). That
 * is most of what applications send, and mailparser's streams cost about
 * four times the rest of the work for such a message (docs/performance.md).
 *
 * It gives what mailparser gives, field for field, or null, and then
 * mailparser parses the message (test/mime/quick-parse.test.ts compares
 * the two on the fixtures and on generated messages). Anything it is not
 * sure of is null: a second header of a kind mailparser keeps one of,
 * folding in an address list, a quoted name.
 */
import { isUtf8 } from 'node:buffer';
import { headerBlockEnd } from '../header-block.js';
import type { ParsedAddress } from './parse-message.js';

const CR = 0x0d;
const LF = 0x0a;

/** Content-Type values read as mailparser reads them without converting a charset. */
const PLAIN_TYPE = /^text\/plain(?:\s*;\s*charset\s*=\s*(?:"(?:us-ascii|utf-8)"|us-ascii|utf-8))?$/i;
const PLAIN_ENCODING = /^(?:7bit|8bit)$/i;
/** An address with nothing to decode or quote. */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
/** A display name of plain words, one space apart. */
const NAME = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)*$/;
const MESSAGE_ID = /^<[^<>\s]+>$/;
/** Header blocks longer than this are left to mailparser. */
const MAX_HEADER_BYTES = 64 * 1024;

/** Headers whose value this parse reads; a second one of any of them leaves the message to mailparser. */
const READ = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'message-id',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'date',
]);

/** `Name <a@b>, c@d`, or null when any item is not of the plain kind. */
export function addressList(value: string): ParsedAddress[] | null {
  if (value === '') return null;
  const out: ParsedAddress[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    // mailparser turns a punycode domain into Unicode.
    if (item.includes('xn--')) return null;
    if (ADDRESS.test(item)) {
      out.push({ name: '', address: item });
      continue;
    }
    const lt = item.indexOf('<');
    if (lt < 0 || !item.endsWith('>')) return null;
    const name = item.slice(0, lt).trimEnd();
    const address = item.slice(lt + 1, -1);
    if (!ADDRESS.test(address) || (name !== '' && !NAME.test(name))) return null;
    out.push({ name, address });
  }
  return out;
}

/** The header fields of `data[0, end)`, each as its raw line, or null when a line is not a plain field. */
function headerLines(data: Buffer, end: number): { name: string; line: string }[] | null {
  const head = data.toString('latin1', 0, end);
  const out: { name: string; line: string }[] = [];
  for (const line of head.split('\r\n')) {
    if (line === '') return null;
    if (line[0] === ' ' || line[0] === '\t') {
      if (out.length === 0) return null;
      out[out.length - 1]!.line += `\r\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!-9;-~]+$/.test(line.slice(0, colon))) return null;
    out.push({ name: line.slice(0, colon).toLowerCase(), line });
  }
  return out;
}

/** Bytes that rule the quick parse out of a header block: non-ASCII, NUL, a CR or LF not in a CRLF. */
function plainHeaderBytes(data: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const b = data[i]!;
    if (b >= 0x80 || b === 0) return false;
    if (b === CR && data[i + 1] !== LF) return false;
    if (b === LF && data[i - 1] !== CR) return false;
  }
  return true;
}

/** The message's fields, and its header lines as mailparser lists them; null when mailparser must parse it. */
export function quickParse(data: Buffer): { readonly fields: QuickFields; readonly lines: readonly string[] } | null {
  const split = headerBlockEnd(data);
  // CRLF CRLF ends the header block here, nothing else (a bare LF mailsplit may read differently).
  if (split === null || split.end < 2 || data[split.bodyStart - 2] !== CR) return null;
  const headEnd = split.end - 2;
  // mailparser refuses a header block past its limit (1 MiB): it alone decides near that.
  if (headEnd > MAX_HEADER_BYTES || !plainHeaderBytes(data, headEnd)) return null;
  const found = headerLines(data, headEnd);
  if (found === null) return null;
  const values = new Map<string, string>();
  for (const { name, line } of found) {
    if (!READ.has(name)) continue;
    if (values.has(name) || line.includes('=?') || line.includes('\r\n')) return null;
    values.set(name, line.slice(line.indexOf(':') + 1).trim());
  }
  if (values.has('content-disposition')) return null;
  const type = values.get('content-type');
  if (type !== undefined && !PLAIN_TYPE.test(type)) return null;
  const encoding = values.get('content-transfer-encoding');
  if (encoding !== undefined && !PLAIN_ENCODING.test(encoding)) return null;
  const body = data.subarray(split.bodyStart);
  if (body.length < 2 || body[body.length - 2] !== CR || body[body.length - 1] !== LF) return null;
  if (!isUtf8(body) || body.includes(0)) return null;
  const lists: Partial<Record<'from' | 'to' | 'cc' | 'bcc', ParsedAddress[]>> = {};
  for (const key of ['from', 'to', 'cc', 'bcc'] as const) {
    const value = values.get(key);
    if (value === undefined) continue;
    const list = addressList(value);
    if (list === null) return null;
    lists[key] = list;
  }
  const messageId = values.get('message-id');
  if (messageId !== undefined && !MESSAGE_ID.test(messageId)) return null;
  const subject = values.get('subject');
  return {
    fields: {
      from: lists.from ?? [],
      to: lists.to ?? [],
      cc: lists.cc ?? [],
      bcc: lists.bcc ?? [],
      messageId: messageId ?? null,
      subject: subject === undefined || subject === '' ? null : subject,
      text: body.toString('utf8').replace(/\r?\n/g, '\n'),
    },
    lines: found.map((f) => f.line),
  };
}

/** What the quick parse read, before the fields both parses derive alike. */
export interface QuickFields {
  readonly from: ParsedAddress[];
  readonly to: ParsedAddress[];
  readonly cc: ParsedAddress[];
  readonly bcc: ParsedAddress[];
  readonly messageId: string | null;
  readonly subject: string | null;
  readonly text: string;
}
