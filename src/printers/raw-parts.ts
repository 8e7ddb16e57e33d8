/**
 * The `raw` and `headers` formats for large messages, as a sequence of
 * parts computed on bytes: the same output as `printRaw` / `printHeaders`
 * byte for byte, but each part is a bounded amount of work (a slice of
 * about `SLICE_BYTES` of the message), so the handler can let other
 * clients in between parts, and no copy of a 10 MiB body is ever made as
 * strings (decode, normalise, join, encode: four copies alive at once).
 *
 * Slices end after an LF, or else before a byte that starts a character:
 * a cut there never splits a CRLF pair nor changes how invalid UTF-8 is
 * decoded (a decoder resynchronises at such a byte), so escaping slice by
 * slice gives what escaping the whole text at once gives.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '../message.js';
import { lintBlock } from './lint-block.js';
import type { PrintContext } from './printer.js';
import { END_MESSAGE, headLines, MESSAGE_FOLLOWS, optionLines, styleHeaderLine } from './raw.js';
import { PLAIN, type Style } from './style.js';
import { terminalSafe, terminalSafeBytes } from './terminal-safe.js';

const CR = 0x0d;
const LF = 0x0a;

/** Messages smaller than this are printed in one piece, through strings: not worth it below. */
const PARTS_MIN_BYTES = 64 * 1024;

/** About how much of the message one part covers. */
export const SLICE_BYTES = 256 * 1024;

/** Length of the line break at `k` (CRLF 2, CR or LF 1), or 0. */
function breakAt(data: Buffer, k: number, end: number): number {
  if (k >= end) return 0;
  if (data[k] === LF) return 1;
  if (data[k] !== CR) return 0;
  return k + 1 < end && data[k + 1] === LF ? 2 : 1;
}

/**
 * smtpd's split of the message text at its first empty line, on bytes:
 * `text` is `data[0, textEnd)`, the message without its final CRLF and with
 * one more final line break dropped (splitlines() gives no empty piece
 * after one). `head` and `body` are byte ranges or null, as in raw.ts.
 */
interface Split {
  readonly head: readonly [number, number] | null;
  readonly body: readonly [number, number] | null;
  readonly sawEmpty: boolean;
}

function split(data: Buffer): Split | undefined {
  let end = data.length;
  if (end >= 2 && data[end - 2] === CR && data[end - 1] === LF) end -= 2;
  if (end === 0) return undefined; // no text at all
  let textEnd = end;
  if (data[end - 1] === LF) textEnd -= end >= 2 && data[end - 2] === CR ? 2 : 1;
  else if (data[end - 1] === CR) textEnd -= 1;
  if (textEnd === 0) return { head: null, body: null, sawEmpty: true };
  const first = breakAt(data, 0, textEnd);
  if (first > 0) return { head: null, body: [first, textEnd], sawEmpty: true };
  for (let k = 1; k < textEnd; k++) {
    const one = breakAt(data, k, textEnd);
    if (one === 0) continue;
    const two = breakAt(data, k + one, textEnd);
    if (two > 0) return { head: [0, k], body: [k + one + two, textEnd], sawEmpty: true };
    if (k + one === textEnd) return { head: [0, k], body: null, sawEmpty: true };
    k += one - 1;
  }
  return { head: [0, textEnd], body: null, sawEmpty: false };
}

/** Where the slice from `from` ends: after an LF near `from + size`, else before a byte that starts a character. */
function sliceEnd(data: Buffer, from: number, to: number, size: number): number {
  if (to - from <= size) return to;
  const target = from + size;
  // Look for an LF within one more slice only, so a long line costs no rescans.
  const lf = data.subarray(target, Math.min(to, target + size)).indexOf(LF);
  if (lf >= 0 && target + lf + 1 < to) return target + lf + 1;
  let k = target;
  while (k < to && (data[k]! & 0xc0) === 0x80) k++;
  if (k < to && data[k] === LF) k++; // never between CR and LF
  return k;
}

/** `data[from, to)` with its line breaks made LF, as valid UTF-8 (invalid bytes become U+FFFD, as toString does). */
function normalised(data: Buffer, from: number, to: number): Buffer {
  let slice = data.subarray(from, to);
  if (!isUtf8(slice)) slice = Buffer.from(slice.toString('utf8'), 'utf8');
  let cr = slice.indexOf(CR);
  if (cr < 0) return slice;
  // From CR to CR (memchr), copying what lies between in one call each: twice as fast as byte by byte.
  const out = Buffer.allocUnsafe(slice.length);
  let o = 0;
  let k = 0;
  for (; cr >= 0; cr = slice.indexOf(CR, k)) {
    o += slice.copy(out, o, k, cr);
    out[o++] = LF;
    k = cr + 1 < slice.length && slice[cr + 1] === LF ? cr + 2 : cr + 1;
  }
  o += slice.copy(out, o, k);
  return out.subarray(0, o);
}

/**
 * The header lines of `data[from, to)`, escaped and styled, each followed
 * by LF, batched into parts of about `size`; a line longer than that is
 * cut into several parts (only its first is styled: it holds the name).
 */
function* headParts(data: Buffer, from: number, to: number, style: Style, size: number): Generator<string> {
  let out = '';
  let nextCr = -1;
  let nextLf = -1;
  for (let ls = from; ;) {
    if (nextCr < ls) nextCr = data.indexOf(CR, ls);
    if (nextLf < ls) nextLf = data.indexOf(LF, ls);
    const le = Math.min(nextCr < 0 || nextCr > to ? to : nextCr, nextLf < 0 || nextLf > to ? to : nextLf);
    if (le - ls <= size) {
      out += styleHeaderLine(terminalSafe(data.toString('utf8', ls, le)), style) + '\n';
      if (out.length >= size) {
        yield out;
        out = '';
      }
    } else {
      if (out !== '') yield out;
      for (let at = ls, first = true; at < le; first = false) {
        const end = sliceEnd(data, at, le, size);
        const safe = terminalSafe(data.toString('utf8', at, end));
        yield first ? styleHeaderLine(safe, style) : safe;
        at = end;
      }
      out = '\n';
    }
    if (le >= to) break;
    ls = le + breakAt(data, le, to);
  }
  if (out !== '') yield out;
}

/**
 * DebuggingServer's framing as parts: what `frame(message, headersOnly,
 * style)` in raw.ts returns, joined. `size` is the slice size (tests use
 * small ones to cut everywhere).
 */
export function* frameParts(
  message: Message,
  headersOnly: boolean,
  style: Style = PLAIN,
  size = SLICE_BYTES,
): Generator<string | Buffer> {
  const data = message.data;
  const found = split(data);
  if (!found) {
    yield [style.frame(MESSAGE_FOLLOWS), ...optionLines(message), style.frame(END_MESSAGE)].join('\n') + '\n';
    return;
  }
  const { head, body, sawEmpty } = found;
  // headLines() with no header text gives the framing, the options and, at the empty line, X-Peer.
  const before = headLines(message, null, false, headersOnly, style);
  yield before.join('\n') + '\n';
  if (head) yield* headParts(data, head[0], head[1], style, size);
  if (sawEmpty) {
    yield styleHeaderLine(`X-Peer: ${terminalSafe(message.peer.address)}`, style) + '\n';
    if (!headersOnly) yield '\n';
  }
  if (sawEmpty && !headersOnly && body) {
    for (let at = body[0]; at < body[1];) {
      const end = sliceEnd(data, at, body[1], size);
      yield terminalSafeBytes(normalised(data, at, end), true);
      at = end;
    }
    yield '\n';
  }
  yield style.frame(END_MESSAGE) + '\n';
}

/** Whether a message is large enough to be printed in parts. */
function printsInParts(message: Message): boolean {
  return message.data.length >= PARTS_MIN_BYTES;
}

/** `printRaw` in parts, for large messages; undefined for small ones (printed whole). */
export function printRawParts(message: Message, context: PrintContext = {}): Iterable<string | Buffer> | undefined {
  return printsInParts(message) ? withLint(frameParts(message, false, context.style), context) : undefined;
}

/** `printHeaders` in parts, for large messages; undefined for small ones. */
export function printHeadersParts(message: Message, context: PrintContext = {}): Iterable<string | Buffer> | undefined {
  return printsInParts(message) ? withLint(frameParts(message, true, context.style), context) : undefined;
}

function* withLint(parts: Iterable<string | Buffer>, context: PrintContext): Generator<string | Buffer> {
  yield* parts;
  const lint = lintBlock(context.lint);
  if (lint !== '') yield lint;
}
