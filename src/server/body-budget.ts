/**
 * One budget for the message bodies that every connection of a server holds
 * in memory, so that many large messages at once cannot take the memory of
 * the machine. Past the budget connections are paused, never refused: the
 * holder that started first goes on (so some message always completes and
 * lets its bytes go: no deadlock), the others wait until bytes are let go.
 * A holder that has received less than PROGRESS_BYTES in the last
 * STALLED_MS does not hold the rest up: the next one may go on too (a client
 * trickling its message cannot stop everyone's DATA for its transaction
 * timeout).
 */

/** A holder that has not received PROGRESS_BYTES for this long is passed over, in ms. */
export const STALLED_MS = 1000;

/** What a holder must receive within STALLED_MS to stay first in line. */
export const PROGRESS_BYTES = 64 * 1024;

/** The default budget, in bytes (`--memory-budget`). */
export const BODY_BUDGET_DEFAULT = 16 * 1024 * 1024;

interface Holding {
  bytes: number;
  /** What it held when it last made progress. */
  mark: number;
  /** performance.now() when it last made progress (received PROGRESS_BYTES since the mark). */
  lastAt: number;
}

export class BodyBudget {
  /** In the order the holders started holding (Map keeps insertion order). */
  private readonly holders = new Map<object, Holding>();
  private total = 0;
  private readonly waiting = new Set<() => void>();

  /** @param limit bytes; 0 for no budget. */
  constructor(
    readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bytes held by every holder. */
  get held(): number {
    return this.total;
  }

  /** `owner` now holds `bytes` (its whole current message, not an increase). */
  set(owner: object, bytes: number): void {
    const holding = this.holders.get(owner);
    if (holding === undefined) {
      if (bytes === 0) return;
      this.holders.set(owner, { bytes, mark: bytes, lastAt: this.now() });
      this.total += bytes;
      return;
    }
    if (bytes - holding.mark >= PROGRESS_BYTES) {
      holding.mark = bytes;
      holding.lastAt = this.now();
    }
    this.total += bytes - holding.bytes;
    holding.bytes = bytes;
    if (bytes === 0) this.holders.delete(owner);
  }

  /** `owner` holds nothing any more; waiting readers are told to try again. */
  release(owner: object): void {
    this.set(owner, 0);
    if (this.waiting.size === 0) return;
    const wake = [...this.waiting];
    this.waiting.clear();
    for (const retry of wake) retry();
  }

  /** Whether `owner` may read more of a message now. */
  mayRead(owner: object): boolean {
    if (this.limit === 0 || this.total <= this.limit) return true;
    const now = this.now();
    for (const [holder, holding] of this.holders) {
      if (holder === owner) return true;
      if (now - holding.lastAt < STALLED_MS) return false;
    }
    // Everyone holding has stalled: a newcomer may go on.
    return true;
  }

  /** Calls `retry` once bytes have been let go (and within STALLED_MS anyway); returns a cancel function. */
  wait(retry: () => void): () => void {
    const once = () => {
      clearTimeout(timer);
      this.waiting.delete(once);
      retry();
    };
    const timer = setTimeout(once, STALLED_MS).unref();
    this.waiting.add(once);
    return () => {
      clearTimeout(timer);
      this.waiting.delete(once);
    };
  }
}
