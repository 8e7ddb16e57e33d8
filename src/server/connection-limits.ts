/**
 * `--max-connections` and `--connection-rate` as one count: a server keeps
 * one for its own connections, and `--workers`' primary one for every
 * worker's (src/cli/workers/primary.ts), so both refuse alike.
 */

export class ConnectionLimits {
  private open = 0;
  /** When the connections of the current rate window arrived (monotonic ms), oldest first. */
  private readonly recent: number[] = [];

  /**
   * @param max open connections at most; 0 for no limit
   * @param rate at most `count` new connections within `windowMs`, or null
   */
  constructor(
    private readonly max: number,
    private readonly rate: { readonly count: number; readonly windowMs: number } | null,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts a new connection: null admits it, a reason refuses it (and it is not counted). */
  admit(): string | null {
    if (this.max > 0 && this.open >= this.max) return 'too many connections';
    if (this.rate) {
      const now = this.now();
      while (this.recent.length > 0 && now - this.recent[0]! >= this.rate.windowMs) this.recent.shift();
      if (this.recent.length >= this.rate.count) return 'too many connections per second';
      this.recent.push(now);
    }
    this.open++;
    return null;
  }

  /** `n` admitted connections have closed. */
  release(n = 1): void {
    this.open -= n;
  }
}
