/** A destination on an open stream, such as stdout. */
import { joinTexts, writeText } from './write-text.js';
import type { Destination, Text } from './output.js';

/**
 * Writes to `stream` and resolves on the write callback. A failed write
 * (EPIPE when the reader of a pipe has gone) rejects that write instead of
 * crashing the process with an unhandled 'error' event.
 *
 * A message in several parts is written one part at a time, letting other
 * clients in between (stdout on a file or a pipe is synchronous in Node, so
 * a 100 MiB write would hold everyone up); writes queue, so the parts of
 * two messages never interleave.
 */
export class StreamDestination implements Destination {
  readonly isTTY: boolean;
  /**
   * Resolves once the stream's reader is gone (EPIPE: `smtpd-ts | head -1`
   * after head exits): nothing written here will be read again.
   */
  readonly gone: Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  /** The texts handed over in this turn of the event loop, and the promise of their one write. */
  private batch: { readonly texts: (string | Uint8Array)[]; readonly done: Promise<void> } | null = null;
  private onGone: () => void = () => {};

  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly name = 'stdout',
  ) {
    this.isTTY = (stream as { isTTY?: boolean }).isTTY === true;
    this.gone = new Promise((resolve) => (this.onGone = resolve));
    // Each write's own callback reports its failure; the stream's error event only says whether the reader left.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.onGone();
    });
  }

  write(text: Text): Promise<void> {
    return this.enqueue(text).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.onGone();
      throw err;
    });
  }

  private enqueue(text: Text): Promise<void> {
    const parts = typeof text === 'string' || text instanceof Uint8Array ? [text] : text;
    // Nothing queued and one part: it joins the texts handed over in this
    // turn of the event loop, written together at its end in one write (a
    // syscall per message was a third of the CPU a small message costs).
    // Each write's promise still resolves only once its text is written.
    if (this.queued === 0 && parts.length <= 1) return this.batched(parts[0] ?? '');
    this.queued++;
    const before = this.batch?.done.catch(() => {});
    const done = this.queue
      .then(() => before)
      .then(async () => {
        for (const part of parts) {
          const written = writeText(this.stream, part);
          await written;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      });
    this.queue = done.catch(() => {}).finally(() => this.queued--);
    return done;
  }

  private batched(part: string | Uint8Array): Promise<void> {
    if (this.batch === null) {
      const texts: (string | Uint8Array)[] = [];
      const done = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          this.batch = null;
          const whole = joinTexts(texts);
          writeText(this.stream, whole).then(resolve, reject);
        }),
      );
      this.batch = { texts, done };
    }
    this.batch.texts.push(part);
    return this.batch.done;
  }

  async close(): Promise<void> {
    await this.batch?.done.catch(() => {});
    await this.queue;
    await writeText(this.stream, '');
  }
}
