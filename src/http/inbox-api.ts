/**
 * What the routes share (api-context.ts's ApiContext), made once per
 * server: the workers, the event streams, and the bounds on work that no
 * one route may exceed and all routes together may not (the response
 * budget, the search deadline).
 */
import { HttpError } from '../errors.js';
import type { InboxPage, InboxSearch } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import type { ApiContext, HttpOptions } from './api-context.js';
import { EventStreams } from './event-streams.js';
import type { RequestGuard } from './guard.js';
import { ResponseBudget } from './json-stream.js';
import { mailpitSearch } from '../inbox/search.js';
import { LatestWaiters, newer, waitMs } from './latest-waiters.js';
import { ViewPool } from './view-pool.js';
import { WebUi } from './web-ui.js';

/** Bytes of stored mail that responses in flight may turn into strings at once (see `heavy`). */
export const RESPONSE_BUDGET_BYTES = 64 * 1024 * 1024;

/** How long one search may walk the inbox before it answers 503. */
const SEARCH_DEADLINE_MS = 30_000;

export class InboxApi implements ApiContext {
  readonly startedAt = Date.now();
  readonly ui = WebUi.load();
  readonly views = new ViewPool();
  readonly events: EventStreams;
  /** Requests held until a message they wait for arrives (`latest?wait=`). */
  private readonly waiters: LatestWaiters;
  /** Mail that responses in flight may hold as strings. */
  private readonly budget = new ResponseBudget(RESPONSE_BUDGET_BYTES);

  constructor(
    readonly options: HttpOptions,
    guard: RequestGuard,
  ) {
    this.events = new EventStreams(options.inbox, options.hostname, guard);
    this.waiters = new LatestWaiters(options.inbox);
    options.inbox.parser = (message) => this.views.parse(message);
  }

  get inbox() {
    return this.options.inbox;
  }

  close(): void {
    void this.views.close();
    this.events.close();
    this.waiters.close();
  }

  async message(id: string, url: URL): Promise<StoredMessage | undefined> {
    if (id !== 'latest') return this.inbox.get(id);
    const params = url.searchParams;
    const query = (params.get('query') ?? '').trim();
    const search = query === '' ? undefined : mailpitSearch(query);
    if (typeof search === 'string') return undefined;
    const afterId = params.get('after');
    const after = afterId === null ? null : await this.inbox.get(afterId);
    if (after === undefined) throw new HttpError(400, `after: no message ${afterId}`);
    const wait = params.get('wait');
    // Listening before looking: a message that arrives in between is not missed.
    const held = wait === null ? null : this.waiters.hold(search, after, waitMs(wait));
    try {
      const found = search ? (await this.page(0, 1, search)).messages[0] : await this.inbox.get('latest');
      if (found && newer(found, after)) return found;
      return held ? await held.result : undefined;
    } finally {
      held?.cancel();
    }
  }

  search(query: string): InboxSearch {
    const search = mailpitSearch(query);
    if (typeof search === 'string') throw new HttpError(400, search);
    return search;
  }

  page(start: number, limit: number, search?: InboxSearch): Promise<InboxPage> {
    return this.inbox.list(start, limit, search, SEARCH_DEADLINE_MS);
  }

  everyMatch(search: InboxSearch): Promise<readonly string[]> {
    return this.inbox.matching(search, SEARCH_DEADLINE_MS);
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
