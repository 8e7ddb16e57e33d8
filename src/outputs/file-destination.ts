/**
 * A file opened for appending (`--output FILE`). The 250 waits for the write
 * to reach the operating system; there is no fsync per message: a debugging
 * sink keeps its log across a crash of smtpd-ts, not across a power cut,
 * and stays fast. (The Maildir, whose spec asks for it, does fsync.)
 */
import { writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import { describeIoError, type Destination, type Text } from './output.js';
import { WriteQueue } from './write-queue.js';
import { OutputError } from '../errors.js';

/** Batches up to this long (characters or bytes) are written synchronously. */
const SYNC_WRITE_MAX = 64 * 1024;

export class FileDestination implements Destination {
  readonly isTTY = false;
  /** The order of the writes, and small ones of one turn joined (write-queue.ts). */
  private readonly queue = new WriteQueue(
    (text) => this.writeOne(text),
    (parts) => this.writeParts(parts),
  );

  private constructor(
    readonly name: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens (creating if needed) `path` for appending; rejects with OutputError. */
  static async open(path: string): Promise<FileDestination> {
    try {
      return new FileDestination(path, await fs.open(path, 'a'));
    } catch (err) {
      throw new OutputError(`cannot open output ${path}: ${describeIoError(err)}`, { cause: err });
    }
  }

  write(text: Text): Promise<void> {
    return this.queue.write(text);
  }

  /**
   * A batch of small texts is written at once, synchronously, as Node
   * writes stdout to a file: the page cache takes it in microseconds, and a
   * trip through the thread pool per batch cost more than the write (S2).
   * Larger texts go through the thread pool, so a slow disk holds up no one.
   */
  private async writeOne(text: string | Uint8Array): Promise<void> {
    if (text.length > SYNC_WRITE_MAX) return this.handle.writeFile(text);
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    for (let done = 0; done < bytes.length;) done += writeSync(this.handle.fd, bytes, done);
  }

  /** Writes a message in parts with writev, on the thread pool, from wherever a short write stopped. */
  private async writeParts(parts: readonly (string | Uint8Array)[]): Promise<void> {
    const buffers = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
    let total = buffers.reduce((n, b) => n + b.length, 0);
    while (total > 0) {
      const { bytesWritten } = await this.handle.writev(buffers);
      total -= bytesWritten;
      let skip = bytesWritten;
      while (skip > 0 && buffers.length > 0) {
        const first = buffers[0]!;
        if (first.length <= skip) {
          skip -= first.length;
          buffers.shift();
        } else {
          buffers[0] = first.subarray(skip);
          skip = 0;
        }
      }
    }
  }

  /** The open file's status (which file it is, whatever path named it). */
  stat(): Promise<import('node:fs').Stats> {
    return this.handle.stat();
  }

  async close(): Promise<void> {
    await this.queue.drained();
    await this.handle.close();
  }
}
