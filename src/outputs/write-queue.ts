/**
 * The order of a destination's writes, kept in one place for stdout and
 * files: writes run one at a time, so messages from parallel sessions never
 * interleave, and the single texts handed over in one turn of the event loop
 * are joined and written together at its end (a write per message was a
 * third of the CPU a small message costs). A message in parts is written
 * after everything handed over before it, and everything after it waits
 * for it. Each promise resolves only once its own text has been written.
 */
import type { Text } from './output.js';
import { joinTexts, pieces } from './write-text.js';

/** Messages up to this long (characters or bytes) are joined and batched; longer ones go in pieces (write-text.ts). */
const SMALL_PARTS = 64 * 1024;

export class WriteQueue {
  private queue: Promise<void> = Promise.resolve();
  /** The single texts of the current turn, already in the queue, still taking more. */
  private batch: { readonly texts: (string | Uint8Array)[]; readonly done: Promise<void> } | null = null;

  /**
   * @param writeOne writes one text (a batch, joined)
   * @param writeParts writes a message in parts
   */
  constructor(
    private readonly writeOne: (text: string | Uint8Array) => Promise<void>,
    private readonly writeParts: (parts: readonly (string | Uint8Array)[]) => Promise<void>,
  ) {}

  write(text: Text): Promise<void> {
    const parts = typeof text === 'string' || text instanceof Uint8Array ? [text] : text;
    // A small message is a single text: it joins the batch.
    if (parts.reduce((n, part) => n + part.length, 0) <= SMALL_PARTS) return this.batched(joinTexts(parts));
    // What comes after this message goes after it: the open batch takes no more.
    this.batch = null;
    return this.then(() => this.writeParts(pieces(parts)));
  }

  /** Resolves once everything handed over so far has been written (or failed). */
  async drained(): Promise<void> {
    await this.queue;
  }

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
      this.batch = { texts, done: this.then(() => closed.then(() => this.writeOne(joinTexts(texts)))) };
    }
    this.batch.texts.push(text);
    return this.batch.done;
  }

  private then(step: () => Promise<void>): Promise<void> {
    const done = this.queue.then(step);
    this.queue = done.catch(() => {});
    return done;
  }
}
