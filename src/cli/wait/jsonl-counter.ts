/**
 * Counts the messages of a JSON-lines file that another process
 * appends to (an smtpd-ts `-o json:FILE`), reading only what was added since
 * the last look. A line counts once its newline is there, so a line being
 * written is never counted half-way. A file that shrank (rotated, truncated)
 * is counted again from its start. Message lines count one each, a
 * `withdrawn` line (the message above it got 451 after all: see
 * src/handlers/outputs.ts) takes one away, and `--transcript` session lines
 * do not count.
 */
import { open } from 'node:fs/promises';

const CHUNK = 1 << 16;

/** How a `--transcript` session line starts (src/transcript/): not a message, so not counted. */
const SESSION_PREFIX = Buffer.from('{"type":"session"');
/** How a withdrawal starts: one message less. */
const WITHDRAWN_PREFIX = Buffer.from('{"type":"withdrawn"');
const PREFIX_LENGTH = Math.max(SESSION_PREFIX.length, WITHDRAWN_PREFIX.length);

export class JsonlCounter {
  private offset = 0;
  private lines = 0;
  /** The first bytes of the line being read (up to PREFIX_LENGTH), across reads. */
  private head = Buffer.alloc(0);

  constructor(readonly path: string) {}

  /** The number of complete lines now; 0 while the file does not exist. */
  async count(): Promise<number> {
    let file;
    try {
      file = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    try {
      const { size } = await file.stat();
      if (size < this.offset) [this.offset, this.lines, this.head] = [0, 0, Buffer.alloc(0)];
      const buf = Buffer.alloc(CHUNK);
      while (this.offset < size) {
        const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.countLines(buf.subarray(0, bytesRead));
        this.offset += bytesRead;
      }
      return this.lines;
    } finally {
      await file.close();
    }
  }

  /** Counts the complete message lines in `bytes`, carrying the start of an unfinished line over. */
  private countLines(bytes: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      const want = PREFIX_LENGTH - this.head.length;
      if (want > 0) this.head = Buffer.concat([this.head, bytes.subarray(start, Math.min(end, start + want))]);
      if (nl < 0) return;
      // Any other line is a message (a line without a type: an older smtpd-ts).
      if (startsWith(this.head, WITHDRAWN_PREFIX)) this.lines--;
      else if (!startsWith(this.head, SESSION_PREFIX)) this.lines++;
      this.head = Buffer.alloc(0);
      start = nl + 1;
    }
  }
}

function startsWith(head: Buffer, prefix: Buffer): boolean {
  return head.length >= prefix.length && head.subarray(0, prefix.length).equals(prefix);
}
