/**
 * A file opened for appending (`--output FILE`). The 250 waits for the write
 * to reach the operating system; there is no fsync per message: a debugging
 * sink keeps its log across a crash of smtpd-ts, not across a power cut,
 * and stays fast. (The Maildir, whose spec asks for it, does fsync.)
 */
import fs from 'node:fs/promises';
import { describeIoError, type Destination, type Text } from './output.js';
import { joinTexts } from './write-text.js';
import { OutputError } from '../errors.js';

export class FileDestination implements Destination {
  readonly isTTY = false;
  /** Writes run one at a time, so messages from parallel sessions never interleave. */
  private queue: Promise<void> = Promise.resolve();
  /** The single texts handed over in this turn of the event loop, and the promise of their one write. */
  private batch: { readonly texts: (string | Uint8Array)[]; readonly done: Promise<void> } | null = null;

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
    if (typeof text === 'string' || text instanceof Uint8Array) return this.batched(text);
    return this.enqueue(text);
  }

  /**
   * Single texts handed over in one turn of the event loop are written
   * together, in one write on the thread pool; each promise resolves once
   * that write is done.
   */
  private batched(text: string | Uint8Array): Promise<void> {
    if (this.batch === null) {
      const texts: (string | Uint8Array)[] = [];
      // The batch takes its place in the queue now; it closes (takes no more) at the end of this turn.
      const closed = new Promise<void>((resolve) =>
        setImmediate(() => {
          if (this.batch?.texts === texts) this.batch = null;
          resolve();
        }),
      );
      const done = this.queue.then(async () => {
        await closed;
        const whole = joinTexts(texts);
        await this.handle.writeFile(whole);
      });
      this.queue = done.catch(() => {});
      this.batch = { texts, done };
    }
    this.batch.texts.push(text);
    return this.batch.done;
  }

  private enqueue(text: Text): Promise<void> {
    // What comes after this text goes after it: the open batch takes no more.
    this.batch = null;
    // The parts of a large message go in one writev, on the thread pool.
    const done = this.queue.then(async () => {
      if (typeof text === 'string' || text instanceof Uint8Array) return this.handle.writeFile(text);
      const buffers = text.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
      // writev may write less than asked (as write does): go on from where it stopped.
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
    });
    this.queue = done.catch(() => {});
    return done;
  }

  /** The open file's status (which file it is, whatever path named it). */
  stat(): Promise<import('node:fs').Stats> {
    return this.handle.stat();
  }

  async close(): Promise<void> {
    await this.batch?.done.catch(() => {});
    await this.queue;
    await this.handle.close();
  }
}
