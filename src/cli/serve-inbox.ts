/**
 * The inbox's HTTP server as the CLI starts it: for a sink of its own
 * (start.ts), or for the primary of `--workers`, whose workers put their
 * messages in its inbox. Loaded only with `--http`: a sink without it never
 * needs node:http.
 */
import { StartError, UsageError } from '../errors.js';
import type { Envelope } from '../http/send.js';
import { InboxHttpServer } from '../http/http-server.js';
import { isLoopbackAddress } from '../loopback.js';
import type { Inbox } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import type { Config } from './config.js';
import { listenFailure } from './announce.js';
import { formatHostPort } from './flag-values.js';
import type { SinkMetrics } from '../http/metrics.js';
import { loadCredentials, selfSignedCredentials } from '../server/tls.js';

export interface InboxService {
  readonly config: Config;
  readonly inbox: Inbox;
  readonly hostname: string;
  /** `--http-auth-file`'s users; null without it. */
  readonly users: ReadonlyMap<string, string> | null;
  readonly log: NodeJS.WritableStream;
  /** `POST /api/v1/send`: resolves with the inbox ID (`authenticated`: by the API's login); absent: not offered. */
  readonly submit?: (envelope: Envelope, data: Buffer, peer: string, authenticated: boolean) => Promise<string>;
  /** Mailpit's release, through the relay's upstream; absent: not offered. */
  readonly release?: (
    entry: StoredMessage,
    to: readonly string[],
    peer: string,
    authenticated: boolean,
  ) => Promise<void>;
  /** `--metrics` without an address: served at /metrics beside the API. */
  readonly metrics?: SinkMetrics;
  /** The relay's upstream as `host:port`, where MailHog's release may send (with `release`). */
  readonly releaseTo?: string;
  /** The SMTP side's certificate and key, for `--http-tls`; absent: SMTP has no TLS. */
  readonly smtpTls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/** The inbox's HTTPS certificate and key: its own files, the SMTP side's, or one made for this run; null: HTTP. */
async function httpsCredentials(
  service: InboxService,
): Promise<{ readonly cert: string | Buffer; readonly key: string | Buffer } | null> {
  const tls = service.config.inbox!.tls;
  if (tls === null) return null;
  if (tls === 'smtp') {
    if (service.smtpTls) return service.smtpTls;
    const made = await selfSignedCredentials(service.hostname);
    service.log.write(
      `smtpd-ts: HTTPS self-signed certificate for ${service.hostname}, generated for this run: SHA-256 fingerprint ${made.fingerprint256}\n`,
    );
    return made;
  }
  const flags = { cert: '--http-tls-cert', key: '--http-tls-key' };
  return loadCredentials(tls.cert, tls.key, flags).catch((e: Error) => {
    throw new UsageError(e.message);
  });
}

/** Starts the inbox's HTTP server where `--http` says; a port that cannot be bound is a StartError. */
export async function serveInbox(service: InboxService): Promise<InboxHttpServer> {
  const { config, users, log, submit, release, metrics } = service;
  const access = config.inbox!;
  const tls = await httpsCredentials(service);
  const where = access.listen;
  // The API's login (--http-auth-file) is what AUTH is to SMTP: without it, --require-auth refuses.
  const authenticated = users !== null;
  const http = new InboxHttpServer({
    ...where,
    inbox: service.inbox,
    hostname: service.hostname,
    log,
    allowHosts: access.allowHosts,
    corsOrigin: access.corsOrigin,
    users,
    ...(submit ? { submit: (envelope, data, peer) => submit(envelope, data, peer, authenticated) } : {}),
    ...(release ? { release: (entry, to, peer) => release(entry, to, peer, authenticated) } : {}),
    ...(metrics ? { metrics } : {}),
    ...(service.releaseTo ? { releaseTo: service.releaseTo } : {}),
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    webroot: access.webroot,
  });
  try {
    const bound = await http.listen();
    if (!isLoopbackAddress(bound.address))
      log.write(
        `smtpd-ts: warning: the inbox listens on ${where.host}: anyone who can reach it can read the mail${users ? '' : ' (see --http-auth-file)'}\n`,
      );
    return http;
  } catch (err) {
    await http.close();
    throw new StartError(`cannot listen for HTTP on ${formatHostPort(where.host, where.port)}: ${listenFailure(err)}`);
  }
}
