/** A destination on an open stream, such as stdout. */
import { writeText } from './write-text.js';
import type { Destination } from './output.js';

/**
 * Writes to `stream` and resolves on the write callback. A failed write
 * (EPIPE when the reader of a pipe has gone) rejects that write instead of
 * crashing the process with an unhandled 'error' event.
 */
export class StreamDestination implements Destination {
  readonly isTTY: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly name = 'stdout',
  ) {
    this.isTTY = (stream as { isTTY?: boolean }).isTTY === true;
    // Each write's own callback reports its failure.
    stream.on('error', () => {});
  }

  write(text: string | Uint8Array): Promise<void> {
    return writeText(this.stream, text);
  }

  async close(): Promise<void> {
    await writeText(this.stream, '');
  }
}
