/** A destination on an open stream, such as stdout. */
import { writeText } from './write-text.js';
import { WriteQueue } from './write-queue.js';
import type { Destination, Text } from './output.js';

/**
 * Writes to `stream` and resolves on the write callback. A failed write
 * (EPIPE when the reader of a pipe has gone) rejects that write instead of
 * crashing the process with an unhandled 'error' event.
 *
 * A message in several parts is written one part at a time, letting other
 * clients in between (stdout on a file or a pipe is synchronous in Node, so
 * a 100 MiB write would hold everyone up); the order of writes, and the
 * batching of small ones, is WriteQueue's.
 */
export class StreamDestination implements Destination {
  readonly isTTY: boolean;
  /**
   * Resolves once the stream's reader is gone (EPIPE: `smtpd-ts | head -1`
   * after head exits): nothing written here will be read again.
   */
  readonly gone: Promise<void>;
  private readonly queue: WriteQueue;
  private onGone: () => void = () => {};

  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly name = 'stdout',
  ) {
    this.isTTY = (stream as { isTTY?: boolean }).isTTY === true;
    this.queue = new WriteQueue(
      (text) => writeText(stream, text),
      async (parts) => {
        for (const part of parts) {
          await writeText(stream, part);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      },
    );
    this.gone = new Promise((resolve) => (this.onGone = resolve));
    // Each write's own callback reports its failure; the stream's error event only says whether the reader left.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.onGone();
    });
  }

  write(text: Text): Promise<void> {
    return this.queue.write(text).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.onGone();
      throw err;
    });
  }

  async close(): Promise<void> {
    await this.queue.drained();
    await writeText(this.stream, '');
  }
}
