/**
 * The `raw` format for large messages, computed on bytes: the same output as
 * `printRaw` byte for byte, without turning a 10 MiB body into strings
 * (decode, normalise, join, encode: four copies of it alive at once). Used
 * when the body is big, valid UTF-8 and free of control characters, which is
 * what large mail (base64 attachments) is; anything else returns undefined
 * and is printed by `printRaw`.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '../message.js';
import { lintBlock } from './lint-block.js';
import type { PrintContext } from './printer.js';
import { END_MESSAGE, headLines } from './raw.js';
import { PLAIN, type Style } from './style.js';

const CR = 0x0d;
const LF = 0x0a;

/** Bodies smaller than this are printed through strings; it is not worth it below. */
export const BYTES_PATH_MIN_BODY = 64 * 1024;

/** Length of the line break at `k` (CRLF 2, CR or LF 1), or 0. */
function breakAt(data: Buffer, k: number, end: number): number {
  if (k >= end) return 0;
  if (data[k] === LF) return 1;
  if (data[k] !== CR) return 0;
  return k + 1 < end && data[k + 1] === LF ? 2 : 1;
}

/**
 * Where smtpd's first empty line is in `data[0, end)`: the end of the header
 * text and the start of the body, or undefined when there is none or the
 * first line is empty (left to the string path).
 */
function findBody(data: Buffer, end: number): { headEnd: number; bodyStart: number } | undefined {
  for (let k = 0; k < end; k++) {
    const first = breakAt(data, k, end);
    if (first === 0) continue;
    if (k === 0) return undefined;
    const second = breakAt(data, k + first, end);
    if (second > 0) return { headEnd: k, bodyStart: k + first + second };
    k += first - 1;
  }
  return undefined;
}

/**
 * Copies `data[from, to)` into `out` at `at` with every line break made LF;
 * returns the new end, or -1 at a control character (C0 but tab, DEL, C1),
 * which only the string path escapes.
 */
function copyBody(data: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let o = at;
  for (let k = from; k < to; k++) {
    const b = data[k]!;
    if (b >= 0x20 && b !== 0x7f && b !== 0xc2) {
      out[o++] = b;
    } else if (b === CR) {
      out[o++] = LF;
      if (k + 1 < to && data[k + 1] === LF) k++;
    } else if (b === LF || b === 0x09) {
      out[o++] = b;
    } else if (b === 0xc2 && (data[k + 1]! < 0x80 || data[k + 1]! > 0x9f)) {
      out[o++] = b; // a lead byte of U+0080..U+00BF; U+0080..U+009F are C1 controls
    } else {
      return -1;
    }
  }
  return o;
}

/** DebuggingServer's framing of the whole message as bytes, or undefined where the string path must do it. */
export function frameBytes(message: Message, style: Style = PLAIN, minBody = BYTES_PATH_MIN_BODY): Buffer | undefined {
  const data = message.data;
  let end = data.length;
  if (end >= 2 && data[end - 2] === CR && data[end - 1] === LF) end -= 2;
  // splitlines() gives no empty piece after a final line break.
  if (end > 0 && data[end - 1] === LF) end -= end >= 2 && data[end - 2] === CR ? 2 : 1;
  else if (end > 0 && data[end - 1] === CR) end -= 1;
  const found = findBody(data, end);
  if (!found || end - found.bodyStart < minBody) return undefined;
  const body = data.subarray(found.bodyStart, end);
  if (!isUtf8(body)) return undefined;
  const head = data.toString('utf8', 0, found.headEnd).replaceAll('\r\n', '\n').replaceAll('\r', '\n');
  const before = Buffer.from(headLines(message, head, true, false, style).join('\n') + '\n');
  const after = Buffer.from(`\n${style.frame(END_MESSAGE)}\n`);
  const out = Buffer.allocUnsafe(before.length + body.length + after.length);
  before.copy(out, 0);
  const o = copyBody(data, found.bodyStart, end, out, before.length);
  if (o < 0) return undefined;
  after.copy(out, o);
  return out.subarray(0, o + after.length);
}

/** `printRaw` for large messages, as bytes; undefined when `printRaw` must print it. */
export function printRawBytes(message: Message, context: PrintContext = {}): Buffer | undefined {
  const framed = frameBytes(message, context.style);
  if (!framed) return undefined;
  const lint = lintBlock(context.lint);
  return lint === '' ? framed : Buffer.concat([framed, Buffer.from(lint)]);
}
