/**
 * A file: opened for appending (`--output FILE`), or stdout when it is a
 * regular file (`> log`). The 250 waits for the write to reach the
 * operating system; there is no fsync per message: a debugging sink keeps
 * its log across a crash of smtpd-ts, not across a power cut, and stays
 * fast. (The Maildir, whose spec asks for it, does fsync.)
 *
 * Writes are synchronous, as Node writes stdout to a file: the page cache
 * takes a batch or a 256 KiB part in microseconds, where a trip through the
 * thread pool cost more than the write (S2) and writev of a whole 10 MiB
 * message ran at half the speed (S3). A message in parts gets a turn of the
 * event loop between parts, so other clients are served meanwhile.
 */
import { fstatSync, writeSync, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import { describeIoError, type Destination, type Text } from './output.js';
import { WriteQueue } from './write-queue.js';
import { OutputError } from '../errors.js';

/** Writes all of `text` to `fd`, from wherever a short write stopped. */
function writeAll(fd: number, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
}

export class FileDestination implements Destination {
  readonly isTTY = false;
  /** The order of the writes, and small ones of one turn joined (write-queue.ts). */
  private readonly queue = new WriteQueue(
    async (text) => writeAll(this.fd, text),
    async (parts) => {
      for (const part of parts) {
        writeAll(this.fd, part);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  );

  private constructor(
    readonly name: string,
    private readonly fd: number,
    /** The file opened here, closed at the end; null for a descriptor it was given (stdout). */
    private readonly handle: fs.FileHandle | null,
  ) {}

  /** Opens (creating if needed) `path` for appending; rejects with OutputError. */
  static async open(path: string): Promise<FileDestination> {
    try {
      const handle = await fs.open(path, 'a');
      return new FileDestination(path, handle.fd, handle);
    } catch (err) {
      throw new OutputError(`cannot open output ${path}: ${describeIoError(err)}`, { cause: err });
    }
  }

  /** Writes to an open descriptor (stdout on a file), which it leaves open. */
  static onDescriptor(name: string, fd: number): FileDestination {
    return new FileDestination(name, fd, null);
  }

  write(text: Text): Promise<void> {
    return this.queue.write(text);
  }

  /** The open file's status (which file it is, whatever path named it). */
  stat(): Promise<Stats> {
    return Promise.resolve(fstatSync(this.fd));
  }

  async close(): Promise<void> {
    await this.queue.drained();
    await this.handle?.close();
  }
}
