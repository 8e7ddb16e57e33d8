import type { Destination, Text } from '../../src/outputs/output.js';

/** A destination that keeps what it is given, one string a write, or fails every write with `error`. */
export class MemoryDestination implements Destination {
  readonly isTTY = false;
  readonly texts: string[] = [];
  constructor(
    readonly name = 'memory',
    private readonly error?: Error,
  ) {}
  async write(text: Text): Promise<void> {
    if (this.error) throw this.error;
    const parts = typeof text === 'string' || text instanceof Uint8Array ? [text] : text;
    this.texts.push(parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString())).join(''));
  }
  async close(): Promise<void> {}
}
