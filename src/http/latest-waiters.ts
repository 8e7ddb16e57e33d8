/**
 * Waiting for a message without polling: `latest?query=Q&wait=D&after=ID`
 * holds the request until a message that Q matches (newer than ID) arrives,
 * answered as it arrives, or gives up after D. A held request costs a
 * timer and an entry in a set: one listener on the inbox's `new` event
 * serves them all, and tests each new message against each held query.
 */
import { parseDuration } from '../duration.js';
import { HttpError } from '../errors.js';
import type { Inbox, InboxSearch } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';

/** The longest a request may be held (`wait=`), and how many may be held at once. */
export const MAX_WAIT_MS = 120_000;
export const MAX_HELD = 1000;

interface Held {
  readonly search: InboxSearch | undefined;
  readonly after: StoredMessage | null;
  readonly done: (entry: StoredMessage | undefined) => void;
}

/** `wait=`: a duration as the flags take one (`30s`, `500ms`, `2m`, or seconds), within MAX_WAIT_MS; else 400. */
export function waitMs(value: string): number {
  const ms = parseDuration(value.trim());
  if (Number.isNaN(ms)) throw new HttpError(400, `wait takes a duration (30s, 500ms, 2m, or seconds), not '${value}'`);
  return Math.min(ms, MAX_WAIT_MS);
}

/** Whether `entry` is newer than `after` (none: any is). */
export function newer(entry: StoredMessage, after: StoredMessage | null): boolean {
  return after === null || (entry.id !== after.id && entry.message.receivedAt > after.message.receivedAt);
}

export class LatestWaiters {
  private readonly held = new Set<Held>();

  constructor(private readonly inbox: Inbox) {}

  /**
   * Starts listening for a message that `search` matches, newer than
   * `after`; `result` resolves with it, or undefined after `ms` (or at
   * close). Call `cancel` when the answer came another way. 503 past
   * MAX_HELD held requests.
   */
  hold(
    search: InboxSearch | undefined,
    after: StoredMessage | null,
    ms: number,
  ): { result: Promise<StoredMessage | undefined>; cancel: () => void } {
    if (this.held.size >= MAX_HELD) throw new HttpError(503, `too many requests are waiting (${MAX_HELD})`);
    let timer: NodeJS.Timeout | undefined;
    let held: Held | undefined;
    const result = new Promise<StoredMessage | undefined>((resolve) => {
      held = {
        search,
        after,
        done: (entry) => {
          this.forget(held!);
          clearTimeout(timer);
          resolve(entry);
        },
      };
      timer = setTimeout(() => held!.done(undefined), ms);
      this.held.add(held);
      if (this.held.size === 1) this.inbox.on('new', this.onNew);
    });
    return { result, cancel: () => held!.done(undefined) };
  }

  /** Answers every held request with nothing (at shutdown). */
  close(): void {
    for (const held of [...this.held]) held.done(undefined);
  }

  private forget(held: Held): void {
    if (this.held.delete(held) && this.held.size === 0) this.inbox.off('new', this.onNew);
  }

  private readonly onNew = (entry: StoredMessage): void => {
    const waiting = [...this.held].filter((h) => h.after === null || h.after.id !== entry.id);
    if (waiting.length === 0) return;
    const answer = () => {
      for (const h of waiting) {
        const match = h.search ? h.search.test(entry) : true;
        const answerIf = (yes: boolean) => {
          if (yes && this.held.has(h)) h.done(entry);
        };
        if (typeof match === 'boolean') answerIf(match);
        else void match.then(answerIf, () => {});
      }
    };
    // A query reads the parse: made once for every held request.
    if (waiting.some((h) => h.search)) void this.inbox.load(entry).then(answer, () => {});
    else answer();
  };
}
