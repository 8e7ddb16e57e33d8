/**
 * Decodes the DATA stream (RFC 5321 4.1.1.4 and 4.5.2): removes the dot that
 * starts a stuffed line and finds the end of data, which is `CRLF.CRLF` and
 * nothing else. A bare LF or bare CR never starts a line here, so none of the
 * SMTP smuggling end-of-data variants (`LF.LF`, `CRLF.LF`, `LF.CRLF`, ...)
 * ends a message.
 *
 * It carries one small integer state across chunks, hops from LF to LF with
 * `indexOf`, and keeps `subarray` views of the input cut around stuffed dots:
 * one `Buffer.concat` per message, none per chunk. On the way it counts the
 * bare CRs and LFs it passes (RFC 5321 2.3.8), so the message is not scanned
 * again for them.
 *
 * The CRLF of the DATA command itself counts as the CRLF before the first
 * line, so an empty message (`DATA`, `.`) ends at once. (smtpd searched for
 * `\r\n.\r\n` in the data alone and hung on an empty message.)
 */

import { MessageBody } from './message-body.js';
import type { BareLineEndings } from './actions.js';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CR_BYTE = Buffer.from([CR]);

/** Where the decoder is in the current line. */
const enum At {
  /** Inside a line; the previous byte was not CR. */
  Mid,
  /** Inside a line, right after a CR. */
  MidCR,
  /** At the start of a line (after CRLF). */
  LineStart,
  /** After a dot that started a line; the dot has been dropped. */
  Dot,
  /** After `.` and CR at the start of a line; the CR is held back. */
  DotCR,
}

/** Counts CRs not followed by LF and LFs not preceded by CR, hopping with indexOf. */
export function countBareLineEndings(data: Buffer): BareLineEndings {
  let lf = 0;
  let cr = 0;
  for (let i = data.indexOf(LF); i >= 0; i = data.indexOf(LF, i + 1)) if (i === 0 || data[i - 1] !== CR) lf++;
  for (let i = data.indexOf(CR); i >= 0; i = data.indexOf(CR, i + 1)) if (data[i + 1] !== LF) cr++;
  return { cr, lf };
}

/** What {@link DataDecoder.feed} found in one chunk. */
export type FeedResult =
  | { readonly done: false }
  /** The end of data was found; `rest` are the bytes after it, for the command reader. */
  | { readonly done: true; readonly rest: Buffer };

export class DataDecoder {
  private at: At = At.LineStart;
  private readonly body: MessageBody;
  /** Every byte of the data phase seen so far, terminator included. */
  private received = 0;
  private bareCr = 0;
  private bareLf = 0;

  /** @param limit the data size limit in bytes, 0 for none (smtpd's data_size_limit). */
  constructor(private readonly limit: number) {
    // +2: the final CRLF is kept but not counted (see size).
    this.body = new MessageBody(limit > 0 ? limit + 2 : 0);
  }

  /**
   * The message size as smtpd counted it for its limit: the raw bytes before
   * the terminating `CRLF.CRLF`, stuffed dots included.
   */
  get size(): number {
    return Math.max(0, this.received - 5);
  }

  /** True when the message is over the size limit and will be answered 552. */
  get tooBig(): boolean {
    return this.body.tooBig || (this.limit > 0 && this.size > this.limit);
  }

  /** Bare CRs and LFs in {@link message}: as {@link countBareLineEndings} would count them there. */
  get bareLineEndings(): BareLineEndings {
    return { cr: this.bareCr, lf: this.bareLf };
  }

  /** The decoded message: dots unstuffed, line endings as received, ending with CRLF unless empty. */
  message(): Buffer {
    return this.body.message();
  }

  /** Consumes a chunk of the data phase. */
  feed(chunk: Buffer): FeedResult {
    const n = chunk.length;
    let i = 0;
    let from = 0; // start of the run of bytes not yet kept
    let at = this.at;
    let cr = -1; // the next CR at or after i once looked up (n: none), so CRs are hopped to once each
    while (i < n) {
      switch (at) {
        case At.Mid: {
          const lf = chunk.indexOf(LF, i);
          const end = lf < 0 ? n : lf;
          // A CR before the last byte of this run has no LF after it. The one
          // at the end is either CRLF or, at the chunk's end, MidCR's to judge.
          if (cr < i) cr = indexOrEnd(chunk, CR, i);
          for (; cr < end - 1; cr = indexOrEnd(chunk, CR, cr + 1)) this.bareCr++;
          if (lf < 0) {
            at = chunk[n - 1] === CR ? At.MidCR : At.Mid;
            i = n;
          } else if (lf > i && chunk[lf - 1] === CR) {
            at = At.LineStart;
            i = lf + 1;
          } else {
            this.bareLf++;
            at = At.Mid;
            i = lf + 1;
          }
          break;
        }
        case At.MidCR:
          if (chunk[i] === LF) {
            at = At.LineStart;
            i++;
          } else {
            this.bareCr++;
            at = At.Mid;
          }
          break;
        case At.LineStart: {
          const b = chunk[i];
          if (b === DOT) {
            // Transparency (RFC 5321 4.5.2): the leading dot is never data,
            // whether it stuffs a line or starts the terminator.
            this.keep(chunk, from, i);
            from = i + 1;
            at = At.Dot;
            i++;
          } else if (b === CR) {
            at = At.MidCR;
            i++;
          } else {
            at = At.Mid;
          }
          break;
        }
        case At.Dot:
          if (chunk[i] === CR) {
            // Hold the CR back: if LF follows, it belongs to the terminator.
            this.keep(chunk, from, i);
            from = i + 1;
            at = At.DotCR;
            i++;
          } else {
            at = At.Mid;
          }
          break;
        case At.DotCR:
          if (chunk[i] === LF) {
            this.received += i + 1;
            this.at = At.LineStart;
            return { done: true, rest: chunk.subarray(i + 1) };
          }
          // `.`, CR, then not LF: the CR was data (a bare one), and so is what follows.
          this.keep(CR_BYTE, 0, 1);
          this.bareCr++;
          at = At.Mid;
          break;
        default: {
          const never: never = at;
          throw new Error(`unreachable decoder state ${String(never)}`);
        }
      }
    }
    this.keep(chunk, from, n);
    this.received += n;
    this.at = at;
    return { done: false };
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    // Past the limit, storing stops and scanning goes on (RFC 5321 4.2.5: the
    // 552 comes after the end of data); no views are cut for nothing.
    if (end <= start || this.body.tooBig) return;
    this.body.add(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }
}

/** `buf.indexOf(byte, from)`, or the buffer's length when it is not there. */
function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
