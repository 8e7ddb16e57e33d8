/**
 * A file opened for appending (`--output FILE`). The 250 waits for the write
 * to reach the operating system; there is no fsync per message: a debugging
 * sink keeps its log across a crash of smtpd-ts, not across a power cut,
 * and stays fast. (The Maildir, whose spec asks for it, does fsync.)
 */
import fs from 'node:fs/promises';
import { describeIoError, OutputError, type Destination } from './output.js';

export class FileDestination implements Destination {
  readonly isTTY = false;
  /** Writes run one at a time, so messages from parallel sessions never interleave. */
  private queue: Promise<void> = Promise.resolve();

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

  write(text: string | Uint8Array): Promise<void> {
    const done = this.queue.then(() => this.handle.writeFile(text));
    this.queue = done.catch(() => {});
    return done;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }
}
