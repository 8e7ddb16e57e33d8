/**
 * Splits the command stream into lines without ever holding more than one
 * line's worth of bytes.
 *
 * A line ends at LF; one CR before it is dropped. (smtpd waited for CRLF and
 * kept a bare LF inside the line; we end the line there, as Postfix, MailHog
 * and smtp-server do, so that `nc` and `telnet` users get an answer. Bare LF
 * never ends DATA: that is the data decoder's job, and it only knows CRLF.)
 *
 * A line longer than `maxLength` bytes is not buffered: its bytes are dropped
 * as they arrive and, when its LF finally comes, it is reported as
 * `{ tooLong: true }` so the channel can answer "500 line too long".
 */

export type LineResult = { readonly kind: 'line'; readonly bytes: Buffer } | { readonly kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/**
 * What is left of `buf` from `start`: nothing (not an empty view, which
 * would keep the whole received chunk alive on an idle connection), or a
 * copy when it is a small part of a larger chunk, else a view.
 */
function rest(buf: Buffer, start: number): Buffer {
  const left = buf.length - start;
  if (left === 0) return EMPTY;
  return left * 8 < buf.buffer.byteLength ? Buffer.from(buf.subarray(start)) : buf.subarray(start);
}

export class LineReader {
  /** Bytes received and not yet returned as lines. */
  private buf: Buffer = EMPTY;
  /** How far `buf` is known to hold no LF, so byte-at-a-time input stays linear. */
  private searched = 0;
  /** True while dropping the rest of an overlong line. */
  private discarding = false;

  constructor(public maxLength: number) {}

  /** Appends received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Bytes held that are not yet part of a returned line. */
  get pending(): number {
    return this.buf.length;
  }

  /**
   * Returns the next complete line, or undefined if more bytes are needed.
   * Overlong lines are reported once, when their end arrives.
   */
  next(): LineResult | undefined {
    const lf = this.buf.indexOf(LF, this.searched);
    if (lf < 0) {
      // Keep only what could still be a line of legal length (+1 for a CR).
      if (this.buf.length > this.maxLength + 1) {
        this.discarding = true;
        this.buf = EMPTY;
      }
      this.searched = this.buf.length;
      return undefined;
    }
    const end = lf > 0 && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const line = this.buf.subarray(0, end);
    this.buf = rest(this.buf, lf + 1);
    this.searched = 0;
    if (this.discarding || line.length > this.maxLength) {
      this.discarding = false;
      return { kind: 'too-long' };
    }
    return { kind: 'line', bytes: line };
  }

  /** Hands back every byte not yet consumed (used when DATA starts) and empties the reader. */
  take(): Buffer {
    const rest = this.buf;
    this.buf = EMPTY;
    this.searched = 0;
    return rest;
  }

  /** Puts bytes back in front (the tail of a chunk after the end of DATA). */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([bytes, this.buf]);
    this.searched = 0;
  }
}
