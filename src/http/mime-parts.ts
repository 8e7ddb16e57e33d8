/**
 * The MIME parts of a stored message numbered as Mailpit numbers them
 * (enmime's PartID: `1`, `2`, `1.2` for the second part inside the first),
 * for the `Attachments` and `Inline` lists and `/part/{PartID}`: each leaf
 * part with its content type, file name, Content-ID and decoded bytes
 * (base64 and quoted-printable), with the checksums Mailpit gives.
 *
 * A plain reader of its own, line by line on bytes: a multipart body is
 * cut at the lines that are its boundary (`--b`, `--b--`, trailing white
 * space allowed, RFC 2046 5.1.1); depth and part count are bounded.
 */
import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { firstFieldValues, headerBlockEnd, lineAt } from '../header-block.js';

export interface MimePart {
  readonly partId: string;
  readonly contentType: string;
  readonly fileName: string;
  readonly contentId: string;
  /** `attachment`, `inline`, or '' when the part has no Content-Disposition. */
  readonly disposition: string;
  /** Decoded. */
  readonly content: Buffer;
}

const MAX_DEPTH = 20;
const MAX_PARTS = 1000;

/** A header value's parameters (`; name="value"`, RFC 2231 `name*=utf-8''%c3%a9` decoded), names lower-cased. */
function params(value: string): { value: string; params: Map<string, string> } {
  const parts = value.split(';');
  const out = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    // A quoted string's `\"` and `\\` are the characters themselves (RFC 2045's quoted-string, as Go reads it).
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (name.endsWith('*')) {
      name = name.slice(0, -1);
      const quote = v.indexOf("''");
      try {
        v = decodeURIComponent(quote >= 0 ? v.slice(quote + 2) : v);
      } catch {
        // not %-encoded after all: kept as written
      }
    }
    if (!out.has(name)) out.set(name, v);
  }
  return { value: parts[0]!.trim().toLowerCase(), params: out };
}

/** Quoted-printable (RFC 2045 6.7): `=XX` and soft line breaks. */
function decodeQuotedPrintable(data: Buffer): Buffer {
  const out = Buffer.alloc(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b !== 0x3d) {
      out[n++] = b;
      continue;
    }
    if (data[i + 1] === 0x0d && data[i + 2] === 0x0a) i += 2;
    else if (data[i + 1] === 0x0a) i += 1;
    else {
      const hex = data.toString('latin1', i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out[n++] = parseInt(hex, 16);
        i += 2;
      } else out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

function decode(body: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** The byte ranges of the children of a multipart body, between its boundary lines. */
function children(data: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const open = Buffer.from(`--${boundary}`, 'latin1');
  const out: [number, number][] = [];
  let childStart = -1;
  for (let pos = start; pos < end;) {
    const line = lineAt(data, pos, end);
    const isBoundary = line.contentEnd - pos >= open.length && data.subarray(pos, pos + open.length).equals(open);
    if (isBoundary) {
      const rest = data.toString('latin1', pos + open.length, line.contentEnd);
      const closing = rest.startsWith('--');
      if (/^(--)?[ \t]*$/.test(rest)) {
        // The line break before a boundary belongs to the boundary.
        if (childStart >= 0) out.push([childStart, Math.max(childStart, lineBreakBefore(data, pos, childStart))]);
        if (closing) return out;
        childStart = line.next;
      }
    }
    pos = line.next;
  }
  if (childStart >= 0) out.push([childStart, end]);
  return out;
}

/** Where the line break before `pos` starts (CRLF or LF), not before `min`. */
function lineBreakBefore(data: Buffer, pos: number, min: number): number {
  let at = pos;
  if (at > min && data[at - 1] === 0x0a) at--;
  if (at > min && data[at - 1] === 0x0d) at--;
  return at;
}

/** Bytes read as Latin-1 (the header block is) as UTF-8 again when they are UTF-8: raw UTF-8 names. */
function asUtf8(latin1: string): string {
  if (!/[\x80-\xff]/.test(latin1)) return latin1;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return latin1;
  }
}

/** How much of a file name is read: far past any file system's, and the decoder's work stays small. */
const MAX_NAME_CHARS = 4096;

/**
 * A part's file name as Mailpit gives it: RFC 2231 (already decoded by
 * `params`), RFC 2047 encoded words (as mail clients write them, though the
 * RFC does not allow them in a quoted parameter: libmime, mailparser's own
 * decoder), raw UTF-8.
 */
export function fileName(raw: string): string {
  const name = asUtf8(raw.slice(0, MAX_NAME_CHARS));
  return name.includes('=?') ? libmime.decodeWords(name) : name;
}

/** Every leaf part of the message, in order, numbered as Mailpit (enmime) numbers them. */
export function mimeParts(data: Buffer): MimePart[] {
  const out: MimePart[] = [];
  const visit = (start: number, end: number, id: string, depth: number) => {
    if (out.length >= MAX_PARTS) return;
    const part = data.subarray(start, end);
    const split = headerBlockEnd(part);
    const head = firstFieldValues(part, split ? split.end : part.length, 'latin1');
    const bodyStart = split ? split.bodyStart : part.length;
    const type = params(head.get('content-type') ?? 'text/plain');
    const boundary = type.params.get('boundary');
    if (type.value.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
      children(part, bodyStart, part.length, boundary).forEach(([s, e], i) =>
        visit(start + s, start + e, id === '' ? String(i + 1) : `${id}.${i + 1}`, depth + 1),
      );
      return;
    }
    const disposition = params(head.get('content-disposition') ?? '');
    out.push({
      partId: id === '' ? '1' : id,
      contentType: type.value,
      fileName: fileName(disposition.params.get('filename') ?? type.params.get('name') ?? ''),
      contentId: (head.get('content-id') ?? '').replace(/^<|>$/g, ''),
      disposition: disposition.value,
      content: decode(part.subarray(bodyStart), (head.get('content-transfer-encoding') ?? '').trim().toLowerCase()),
    });
  };
  visit(0, data.length, '', 0);
  return out;
}

/** Mailpit's Attachment of a part. */
export function attachmentSummary(part: MimePart): Record<string, unknown> {
  const sum = (algorithm: string) => createHash(algorithm).update(part.content).digest('hex');
  return {
    PartID: part.partId,
    FileName: part.fileName,
    ContentType: part.contentType,
    ContentID: part.contentId,
    Size: part.content.length,
    Checksums: { MD5: sum('md5'), SHA1: sum('sha1'), SHA256: sum('sha256') },
  };
}

/**
 * Mailpit's split of the parts that are not the body text: `Inline` (inline
 * parts and those with a Content-ID) and `Attachments` (the rest), each only
 * when it has a file name or a Content-ID, as Mailpit lists them.
 */
export function attachmentLists(parts: readonly MimePart[]): { inline: MimePart[]; attachments: MimePart[] } {
  const inline: MimePart[] = [];
  const attachments: MimePart[] = [];
  parts.forEach((p, i) => {
    const isBody =
      p.disposition !== 'attachment' &&
      p.fileName === '' &&
      (p.contentType === 'text/plain' || p.contentType === 'text/html');
    if (isBody || (i === 0 && parts.length === 1 && p.disposition === '')) return;
    if (p.fileName === '' && p.contentId === '') return;
    if (p.disposition === 'attachment') attachments.push(p);
    else if (p.disposition === 'inline' || p.contentId !== '') inline.push(p);
    else attachments.push(p);
  });
  return { inline, attachments };
}
