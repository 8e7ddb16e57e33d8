/**
 * What every route's handler shares (router.ts's `Call.context`): the
 * inbox, the options the server was started with, and the work the server
 * bounds for all routes together (response budget, searches, the view
 * worker). http-server.ts implements it.
 */
import type { SinkMetrics } from './metrics.js';
import type { Inbox, InboxPage, InboxSearch } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import type { EventStreams } from './event-streams.js';
import type { GuardOptions } from './guard.js';
import type { Envelope } from './send.js';
import type { Call, Route } from './router.js';
import type { ViewPool } from './view-pool.js';
import type { WebUi } from './web-ui.js';

/** The inbox's address and backend, who may call it (GuardOptions), and what it can do besides reading. */
export interface HttpOptions extends GuardOptions {
  readonly port: number;
  readonly inbox: Inbox;
  /** The host name in MailHog's message IDs (`ID@hostname`). */
  readonly hostname: string;
  readonly log?: NodeJS.WritableStream;
  /**
   * Delivers a message as if received over SMTP (to every output and the
   * inbox); resolves with its inbox ID, rejects with the refusal. Absent:
   * `POST /api/v1/send` is not offered.
   */
  readonly submit?: (envelope: Envelope, data: Buffer, peer: string) => Promise<string>;
  /** Sends a stored message on to `to` through the relay's upstream; rejects with SendError. Absent: no release. */
  readonly release?: (entry: StoredMessage, to: readonly string[], peer: string) => Promise<void>;
  /** The relay's upstream as `host:port`: the one server MailHog's release may name. */
  readonly releaseTo?: string;
  /** `--http-webroot`: the path everything is served under, with a slash at each end; absent: `/`. */
  readonly webroot?: string;
  /** `--http-tls-*`: HTTPS with this certificate and key (PEM); absent: plain HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** `--metrics` beside the API: what `GET /metrics` answers. Absent: 404. */
  readonly metrics?: SinkMetrics;
}

export interface ApiContext {
  readonly options: HttpOptions;
  readonly inbox: Inbox;
  /** Parses of large messages and previews of HTML, off the server's thread. */
  readonly views: ViewPool;
  readonly events: EventStreams;
  /** The web UI's files; null when the bundle was not built. */
  readonly ui: WebUi | null;
  readonly startedAt: number;
  /**
   * Runs `work`, which turns `entries` into strings, within the budget of
   * mail that responses in flight may hold: a request waits its turn, or is
   * told to come back (503) when too many wait.
   */
  heavy(entries: readonly StoredMessage[], work: () => Promise<void>): Promise<void>;
  /**
   * The message a route's `{ID}` names; for `latest`, the newest, or (as
   * Mailpit's LatestID) the newest that `?query=` matches; with `after=ID`
   * only one newer than that message, and with `wait=D` the request is held
   * up to D for one to arrive (latest-waiters.ts). Undefined when there is none.
   */
  message(id: string, url: URL): Promise<StoredMessage | undefined>;
  /** A Mailpit search query as the inbox takes it; a bad one is a 400. */
  search(query: string): InboxSearch;
  /** A page of the inbox, or of what `search` matches, within the search deadline (503 past it). */
  page(start: number, limit: number, search?: InboxSearch): Promise<InboxPage>;
  /** The IDs of every message `search` matches (for a bulk change), within the same deadline. */
  everyMatch(search: InboxSearch): Promise<readonly string[]>;
}

/** A route of the inbox's table, and the call its handler gets. */
export type ApiRoute = Route<ApiContext>;
export type ApiCall = Call<ApiContext>;
