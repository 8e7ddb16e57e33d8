/**
 * A message's bytes as DATA or BDAT store them: views of the received
 * chunks, joined once at the end. Past the size limit storing stops and what
 * was kept is let go, while the reader goes on to the end of the data
 * (RFC 5321 4.2.5: the 552 comes after it).
 */
export class MessageBody {
  private readonly parts: Buffer[] = [];
  private stored = 0;
  private overflow = false;

  /** @param limit the most bytes stored, 0 for no limit. */
  constructor(private readonly limit: number) {}

  /** Stores `data` (the view itself, not a copy), unless the limit was passed. */
  add(data: Buffer): void {
    if (this.overflow || data.length === 0) return;
    this.stored += data.length;
    if (this.limit > 0 && this.stored > this.limit) {
      this.overflow = true;
      this.parts.length = 0;
      return;
    }
    this.parts.push(data);
  }

  /** True once more than `limit` bytes were offered. */
  get tooBig(): boolean {
    return this.overflow;
  }

  /** The bytes stored, joined; empty once over the limit. */
  message(): Buffer {
    return this.overflow ? Buffer.alloc(0) : Buffer.concat(this.parts, this.stored);
  }
}
