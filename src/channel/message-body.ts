/**
 * Bodies that reach this size move to shared memory, where each later chunk
 * is copied as it arrives: joining 30 MiB at the end held the event loop for
 * 100 ms, and the server's workers (formatting, parsing) read a shared body
 * where it is, with no copy to hand it over (worker-pool.ts).
 */
export const SHARED_BODY_BYTES = 1 << 20;

/** How far a shared body may grow when there is no size limit: the most a Buffer holds. */
const SHARED_MAX_BYTES = 2 ** 32 - 1;

/**
 * A message's bytes as DATA or BDAT store them: views of the received
 * chunks, joined once at the end, or, once large, copied into a growable
 * shared buffer as they come. Past the size limit storing stops and what
 * was kept is let go, while the reader goes on to the end of the data
 * (RFC 5321 4.2.5: the 552 comes after it).
 */
export class MessageBody {
  private readonly parts: Buffer[] = [];
  private shared: SharedArrayBuffer | null = null;
  private stored = 0;
  private overflow = false;

  /** @param limit the most bytes stored, 0 for no limit. */
  constructor(private readonly limit: number) {}

  /** Stores `data` (the view itself, or a copy once the body is shared), unless the limit was passed. */
  add(data: Buffer): void {
    if (this.overflow || data.length === 0) return;
    const at = this.stored;
    this.stored += data.length;
    if ((this.limit > 0 && this.stored > this.limit) || this.stored > SHARED_MAX_BYTES) {
      this.overflow = true;
      this.parts.length = 0;
      this.shared = null;
      return;
    }
    if (this.shared) {
      this.shared.grow(this.stored);
      data.copy(Buffer.from(this.shared, at, data.length));
      return;
    }
    this.parts.push(data);
    if (this.stored < SHARED_BODY_BYTES) return;
    this.shared = new SharedArrayBuffer(this.stored, { maxByteLength: this.limit > 0 ? this.limit : SHARED_MAX_BYTES });
    const joined = Buffer.from(this.shared);
    let to = 0;
    for (const part of this.parts) to += part.copy(joined, to);
    this.parts.length = 0;
  }

  /** True once more than `limit` bytes were offered. */
  get tooBig(): boolean {
    return this.overflow;
  }

  /** The bytes stored, joined; empty once over the limit. */
  message(): Buffer {
    if (this.overflow) return Buffer.alloc(0);
    return this.shared ? Buffer.from(this.shared, 0, this.stored) : Buffer.concat(this.parts, this.stored);
  }
}
