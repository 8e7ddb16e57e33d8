/**
 * A light scan of a header block over raw bytes, for the lint: where each
 * field is, its name, and its value unfolded. No decoding, no MIME, no
 * allocation per byte: it hops from LF to LF (as the DATA decoder does) and
 * stops at the first empty line (src/header-block.ts) or after
 * MAX_HEADER_BLOCK bytes.
 */
import { isAscii } from 'node:buffer';
import { lineAt } from '../header-block.js';

/**
 * How far a header block is scanned: mailparser's own header limit (1 MiB).
 * Whatever follows is taken for body.
 */
export const MAX_HEADER_BLOCK = 1 << 20;

/** One header field of a scanned block. */
export interface RawHeader {
  /** The name as written, e.g. `Subject`. */
  readonly name: string;
  /** The name in lower case, for lookups. */
  readonly key: string;
  /** The value's bytes, folding included (offsets into the scanned buffer). */
  readonly start: number;
  readonly end: number;
}

export interface HeaderBlock {
  readonly headers: readonly RawHeader[];
  /** Where the body starts (after the empty line), or `end` when there is none. */
  readonly bodyStart: number;
}

const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Scans the header block of `data[start, end)`. */
export function scanHeaders(data: Buffer, start = 0, end = data.length): HeaderBlock {
  const headers: RawHeader[] = [];
  const limit = Math.min(end, start + MAX_HEADER_BLOCK);
  let pos = start;
  let current: { name: string; start: number } | undefined;
  const close = (valueEnd: number) => {
    if (current)
      headers.push({ name: current.name, key: current.name.toLowerCase(), start: current.start, end: valueEnd });
    current = undefined;
  };
  while (pos < limit) {
    const { contentEnd, next } = lineAt(data, pos, end);
    if (contentEnd === pos) {
      // The empty line: the body follows.
      close(pos);
      return { headers, bodyStart: next };
    }
    const first = data[pos];
    if ((first === SP || first === HT) && current) {
      // A continuation line (RFC 5322 2.2.3) belongs to the field being read.
    } else {
      close(pos);
      const colon = data.indexOf(COLON, pos);
      // A line without a colon is no field (a defect receivers treat variously); it is skipped.
      if (colon >= 0 && colon < contentEnd)
        current = { name: data.toString('latin1', pos, colon).trim(), start: colon + 1 };
    }
    pos = next;
  }
  close(pos);
  return { headers, bodyStart: pos };
}

/** The value of a field, unfolded and trimmed, bytes read as UTF-8. */
export function headerValue(data: Buffer, header: RawHeader): string {
  return data
    .toString('utf8', header.start, header.end)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/\r?\n$/, '')
    .trim();
}

/** The first field named `key` (lower case), if any. */
export function findHeader(block: HeaderBlock, key: string): RawHeader | undefined {
  return block.headers.find((h) => h.key === key);
}

/** Whether a field's name and value are all US-ASCII. */
export function headerIsAscii(data: Buffer, header: RawHeader): boolean {
  return isAscii(Buffer.from(header.name, 'latin1')) && isAscii(data.subarray(header.start, header.end));
}
