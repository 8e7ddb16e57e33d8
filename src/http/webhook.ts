/**
 * `--webhook URL`: each new message's summary (Mailpit's MessageSummary,
 * as its `--webhook-url` posts it), POSTed as JSON, with the raw message
 * too on request (`--webhook-raw`), only for messages a search matches
 * (`--webhook-query`). Off the SMTP path: the inbox's `new` event queues
 * the message (a bounded queue: past it the oldest is dropped and said),
 * and one request at a time goes out, at most `--webhook-limit` a second,
 * retried with backoff after a network error, a 429 or a 5xx.
 *
 * The URL is the operator's, but where its name resolves is not theirs to
 * vouch for: an address on this machine, a private network or the cloud
 * metadata service is refused (checked on the address connected to, so a
 * name that changes its answer cannot slip through) unless
 * `--webhook-allow-internal` says so. Redirects are not followed.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Inbox, InboxSearch } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import { WebhookRefusedError } from '../errors.js';
import { isInternalAddress } from '../loopback.js';
import { VERSION } from '../version.js';
import { summary } from './mailpit-shapes.js';

export interface WebhookSettings {
  readonly url: URL;
  /** Requests a second at most. */
  readonly perSecond: number;
  /** How long after its arrival a message is posted at the earliest (Mailpit's `--webhook-delay`). */
  readonly delayMs: number;
  /** Only messages this search matches; null: every message. */
  readonly search: InboxSearch | null;
  /** Adds `Raw`, the whole message in base64. */
  readonly raw: boolean;
  /** Sent as `Smtpd-Ts-Label` and, for Mailpit's receivers, `Mailpit-Label`; null: none. */
  readonly label: string | null;
  /** Posts to internal addresses too. */
  readonly allowInternal: boolean;
}

/** Messages waiting at most; past it the oldest is dropped. */
export const WEBHOOK_QUEUE = 1000;
/** Tries of one message at most (the first and four retries, 1, 2, 4 and 8 s apart). */
export const WEBHOOK_TRIES = 5;
/** How long one request may take. */
const REQUEST_TIMEOUT_MS = 5_000;

/** `lookup` for a request: the name's address, refused when internal (unless allowed). */
function guardedLookup(allowInternal: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const usable = allowInternal ? addresses : addresses.filter((a) => !isInternalAddress(a.address));
      if (usable.length === 0) {
        const shown = addresses.map((a) => a.address).join(', ');
        const why = `${hostname} resolves to ${shown}, an internal address (allow with --webhook-allow-internal)`;
        return callback(new WebhookRefusedError(why), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/** POSTs `body`; resolves with the status, rejects with WebhookRefusedError or a network error. */
function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
  allowInternal: boolean,
  made: (req: http.ClientRequest) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(body.length) },
        lookup: guardedLookup(allowInternal),
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume(); // the answer's body is not read, only let go
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    made(req);
    req.end(body);
  });
}

interface Queued {
  readonly entry: StoredMessage;
  readonly notBefore: number;
}

export class WebhookSender {
  private readonly queue: Queued[] = [];
  private running = false;
  private closed = false;
  private lastSent = 0;
  private dropped = 0;
  /** The request on its way, ended at close. */
  private inFlight: http.ClientRequest | null = null;
  /** Requests that got a 2xx, for the log at the end and the tests. */
  delivered = 0;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly inbox: Inbox,
    private readonly log: NodeJS.WritableStream,
  ) {
    inbox.on('new', this.onNew);
  }

  close(): void {
    this.closed = true;
    this.inbox.off('new', this.onNew);
    this.inFlight?.destroy();
    if (this.queue.length > 0) this.say(`${this.queue.length} message(s) not posted: the sink is stopping`);
    this.queue.length = 0;
  }

  private readonly onNew = (entry: StoredMessage): void => {
    if (this.closed) return;
    if (this.queue.length >= WEBHOOK_QUEUE) {
      this.queue.shift();
      // Said once per hundred, not once per message.
      if (this.dropped++ % 100 === 0) this.say(`the receiver is behind: dropped ${this.dropped} message(s) so far`);
    }
    this.queue.push({ entry, notBefore: Date.now() + this.settings.delayMs });
    void this.pump();
  };

  private say(line: string): void {
    this.log.write(`smtpd-ts: webhook: ${line}\n`);
  }

  /** Posts what is queued, one at a time, spaced by the rate limit. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next && !this.closed; next = this.queue.shift()) {
        const wait = Math.max(next.notBefore - Date.now(), this.lastSent + 1000 / this.settings.perSecond - Date.now());
        if (wait > 0) await sleep(wait);
        if (this.closed) break;
        await this.deliver(next.entry);
      }
    } finally {
      this.running = false;
    }
  }

  private async deliver(entry: StoredMessage): Promise<void> {
    const { search, raw, label, url, allowInternal } = this.settings;
    await this.inbox.load(entry);
    if (search && !(await search.test(entry))) return;
    const json = JSON.stringify(summary(entry));
    // The raw message is added as bytes: its base64 is made natively, never as part of one JSON string.
    const body = raw
      ? Buffer.concat([
          Buffer.from(`${json.slice(0, -1)},"Raw":"`),
          Buffer.from(entry.message.data.toString('base64')),
          Buffer.from('"}'),
        ])
      : Buffer.from(json);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `smtpd-ts/${VERSION}`,
      ...(label === null ? {} : { 'Smtpd-Ts-Label': label, 'Mailpit-Label': label }),
    };
    for (let tries = 1; !this.closed; tries++) {
      this.lastSent = Date.now();
      let why: string;
      try {
        const status = await post(url, body, headers, allowInternal, (req) => (this.inFlight = req));
        if (status >= 200 && status < 300) {
          this.delivered++;
          return;
        }
        why = `${url.host} answered ${status}`;
        if (status !== 429 && status < 500) return this.say(`${why} for message ${entry.id}; not tried again`);
      } catch (err) {
        if (err instanceof WebhookRefusedError) return this.say(`refused: ${err.message}`);
        why = (err as Error).message;
      }
      if (tries >= WEBHOOK_TRIES) return this.say(`gave up on message ${entry.id} after ${tries} tries: ${why}`);
      await sleep(1000 * 2 ** (tries - 1));
    }
  }
}
