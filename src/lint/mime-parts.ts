/**
 * The text parts of a message whose 8-bit content has no declared charset,
 * found by walking the MIME tree over raw bytes (RFC 2046 5.1): boundaries
 * are found with indexOf, never by splitting the message into strings.
 * Bounded like mailparser: at most MAX_PARTS parts, MAX_DEPTH levels.
 */
import { isAscii } from 'node:buffer';
import { findHeader, headerValue, scanHeaders, type HeaderBlock } from './header-scan.js';

/** Parts visited at most (mailparser's limit is 1000 too). */
export const MAX_PARTS = 1000;
/** Multipart nesting followed at most. */
export const MAX_DEPTH = 20;

/** A Content-Type value's type and the parameters the lint needs. */
export interface ContentType {
  /** `type/subtype`, lower case. */
  readonly mime: string;
  readonly charset: string | null;
  readonly boundary: string | null;
}

/** Parses a Content-Type value loosely (RFC 2045 5.1; RFC 2231 `charset*=` counts as declared). */
export function parseContentType(value: string): ContentType {
  const semi = value.indexOf(';');
  const mime = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const name = m[1]!.toLowerCase().replace(/\*(\d+\*?)?$/, '');
    const raw = m[2]!;
    if (!params.has(name)) params.set(name, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return { mime, charset: params.get('charset') || null, boundary: params.get('boundary') || null };
}

/** The default Content-Type when a part has none (RFC 2045 5.2; RFC 2046 5.1.5 for digests). */
function defaultType(parentMime: string): ContentType {
  return { mime: parentMime === 'multipart/digest' ? 'message/rfc822' : 'text/plain', charset: null, boundary: null };
}

/** Where each body part of a multipart body starts and ends, between its delimiter lines. */
function splitParts(data: Buffer, start: number, end: number, boundary: string, room: number): [number, number][] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: [number, number][] = [];
  let partStart = -1;
  for (
    let at = data.indexOf(delimiter, start);
    at >= 0 && at < end && parts.length < room;
    at = data.indexOf(delimiter, at + 1)
  ) {
    // A delimiter starts a line (RFC 2046 5.1.1).
    if (at > start && data[at - 1] !== 0x0a) continue;
    const after = at + delimiter.length;
    const closing = data[after] === 0x2d && data[after + 1] === 0x2d;
    if (partStart >= 0) {
      // The CRLF before the delimiter belongs to the delimiter.
      let partEnd = at;
      if (data[partEnd - 1] === 0x0a) partEnd--;
      if (data[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (closing) return parts;
    const lf = data.indexOf(0x0a, after);
    if (lf < 0 || lf >= end) return parts;
    partStart = lf + 1;
  }
  // An unclosed multipart: the last part runs to the end.
  if (partStart >= 0 && parts.length < room) parts.push([partStart, end]);
  return parts;
}

/** A text part with 8-bit content and no charset: its number (`1.2`) and type. */
export interface UndeclaredPart {
  readonly part: string;
  readonly mime: string;
}

/** Every text part (the top level included) with 8-bit bytes and no charset parameter. */
export function undeclaredCharsets(data: Buffer, top: HeaderBlock): UndeclaredPart[] {
  const found: UndeclaredPart[] = [];
  let visited = 0;
  const visit = (block: HeaderBlock, end: number, number: string, parentMime: string, depth: number) => {
    visited++;
    const field = findHeader(block, 'content-type');
    const type = field ? parseContentType(headerValue(data, field)) : defaultType(parentMime);
    if (type.mime.startsWith('multipart/') && type.boundary !== null && depth < MAX_DEPTH) {
      const parts = splitParts(data, block.bodyStart, end, type.boundary, MAX_PARTS - visited);
      parts.forEach(([s, e], i) => {
        if (visited < MAX_PARTS)
          visit(scanHeaders(data, s, e), e, number === '' ? `${i + 1}` : `${number}.${i + 1}`, type.mime, depth + 1);
      });
    } else if (
      type.mime.startsWith('text/') &&
      type.charset === null &&
      !isAscii(data.subarray(block.bodyStart, end))
    ) {
      found.push({ part: number === '' ? 'the body' : `part ${number}`, mime: type.mime });
    }
  };
  visit(top, data.length, '', '', 0);
  return found;
}
