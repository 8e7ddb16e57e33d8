/**
 * Counts the complete lines of a JSON-lines file that another process
 * appends to (an smtpd-ts `-o json:FILE`), reading only what was added since
 * the last look. A line counts once its newline is there, so a line being
 * written is never counted half-way. A file that shrank (rotated, truncated)
 * is counted again from its start.
 */
import { open } from 'node:fs/promises';

const CHUNK = 1 << 16;

export class JsonlCounter {
  private offset = 0;
  private lines = 0;

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
      if (size < this.offset) [this.offset, this.lines] = [0, 0];
      const buf = Buffer.alloc(CHUNK);
      while (this.offset < size) {
        const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        for (let i = buf.indexOf(0x0a); i >= 0 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) this.lines++;
        this.offset += bytesRead;
      }
      return this.lines;
    } finally {
      await file.close();
    }
  }
}
