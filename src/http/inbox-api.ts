/**
 * What the routes share (api-context.ts's ApiContext), made once per
 * server: the workers, the event streams, and the bounds on work that no
 * one route may exceed and all routes together may not (the response
 * budget, the search deadline).
 */
import { HttpError } from '../errors.js';
import type { StoredMessage } from '../store/message-store.js';
import type { ApiContext, HttpOptions } from './api-context.js';
import { EventStreams } from './event-streams.js';
import type { RequestGuard } from './guard.js';
import { ResponseBudget } from './json-stream.js';
import { searchPredicate } from '../store/search.js';
import { ViewPool } from './view-pool.js';
import { WebUi } from './web-ui.js';

/** Bytes of stored mail that responses in flight may turn into strings at once (see `heavy`). */
export const RESPONSE_BUDGET_BYTES = 64 * 1024 * 1024;

/** How long one search may walk the inbox before it answers 503. */
const SEARCH_DEADLINE_MS = 30_000;

/** A search holding NUL is a bad request, whatever the store (PostgreSQL's text cannot hold it). */
function refuseNul(query: string): void {
  if (query.includes('\0')) throw new HttpError(400, 'a search cannot hold NUL');
}

export class InboxApi implements ApiContext {
  readonly startedAt = Date.now();
  readonly ui = WebUi.load();
  readonly views = new ViewPool();
  readonly events: EventStreams;
  /** Mail that responses in flight may hold as strings. */
  private readonly budget = new ResponseBudget(RESPONSE_BUDGET_BYTES);

  constructor(
    readonly options: HttpOptions,
    guard: RequestGuard,
  ) {
    this.events = new EventStreams(options.store, options.hostname, guard);
    options.store.parser = (message) => this.views.parse(message);
  }

  get store() {
    return this.options.store;
  }

  close(): void {
    void this.views.close();
    this.events.close();
  }

  /** The messages a Mailpit search matches, newest first: by the database with --store, else in memory. */
  async matching(query: string): Promise<StoredMessage[]> {
    const store = this.options.store;
    if (query.trim() === '') throw new HttpError(400, 'no search query');
    const predicate = searchPredicate(query);
    if (typeof predicate === 'string') throw new HttpError(400, predicate);
    if (!this.options.search) return this.filtered(query, predicate);
    refuseNul(query);
    const ids = await this.options.search(query);
    return ids.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined);
  }

  /** The stored messages `matches` accepts, newest first, walked in slices: 503 past the deadline. */
  async filtered(query: string, matches: (e: StoredMessage) => boolean): Promise<StoredMessage[]> {
    refuseNul(query);
    const found = await this.options.store.filter(matches, SEARCH_DEADLINE_MS);
    if (found === null) throw new HttpError(503, 'the search took too long; narrow it');
    return found;
  }

  /**
   * Runs `work`, which turns `entries` into strings, within the budget of
   * mail that responses in flight may hold (json-stream.ts): a request
   * waits its turn, or is told to come back when too many wait.
   */
  async heavy(entries: readonly StoredMessage[], work: () => Promise<void>): Promise<void> {
    // MailHog's shapes hold a message about twice (its text and its parts), and the JSON pieces are small.
    const bytes = entries.reduce((n, e) => n + 2 * e.message.data.length, 0);
    const release = await this.budget.take(bytes);
    if (!release) throw new HttpError(503, 'too many large messages are being read at once; try again');
    try {
      await work();
    } finally {
      release();
    }
  }
}
