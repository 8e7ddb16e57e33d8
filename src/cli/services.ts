/**
 * What a sink run as a service adds around the inbox (docs/service.md,
 * docs/pop3.md): `--webhook`'s sender, `--pop3`'s server and
 * `--metrics HOST:PORT`'s own server. Each is loaded only when its flag is
 * given; a failure to start one closes those already started.
 */
import type { InboxHttpServer } from '../http/http-server.js';
import type { SinkMetrics } from '../http/metrics.js';
import type { Inbox } from '../inbox/inbox.js';
import { StartError } from '../errors.js';
import { selfSignedCredentials } from '../server/tls.js';
import { listenFailure } from './announce.js';
import type { Config } from './config.js';
import { formatHostPort } from './flag-values.js';
import { readUsersFile } from './smtp-options.js';

export interface Services {
  /** The lines the start says about them (`metrics on URL`, `inbox over POP3 on URL`). */
  readonly lines: readonly string[];
  close(): Promise<void>;
}

export interface ServiceContext {
  readonly config: Config;
  /** The inbox this process keeps; null in a worker of `--workers`, or without `--http`. */
  readonly inbox: Inbox | null;
  /** `--metrics`' figures, made before the inbox's server (which serves them at /metrics without an address). */
  readonly metrics: SinkMetrics | null;
  /** The inbox's HTTP server, with its URL. */
  readonly served: { readonly server: InboxHttpServer; readonly url: string } | null;
  readonly hostname: string;
  readonly log: NodeJS.WritableStream;
  /** The SMTP side's certificate, which POP3's STLS uses too; null: one is made for POP3. */
  readonly smtpTls: { readonly cert: string | Buffer; readonly key: string | Buffer } | null;
}

export async function startServices(context: ServiceContext): Promise<Services> {
  const { config, inbox, metrics, served, hostname, log } = context;
  const closers: (() => Promise<void>)[] = [];
  const lines: string[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    if (config.webhook && inbox) {
      const { WebhookSender } = await import('../http/webhook.js');
      const sender = new WebhookSender(config.webhook, inbox, log);
      closers.push(async () => sender.close());
    }
    if (config.pop3 && inbox) {
      const { listen, authFile, implicit } = config.pop3;
      const [{ Pop3Server }, users] = await Promise.all([
        import('../pop3/server.js'),
        readUsersFile(authFile, '--pop3-auth-file'),
      ]);
      // STLS (or POP3S) with the SMTP side's certificate; one made for the run when SMTP has none.
      const tls = context.smtpTls ?? (await selfSignedCredentials(hostname));
      const mailboxes = config.mailboxes.rules.length > 0;
      const server = new Pop3Server({ ...listen, users, tls, implicit, mailboxes }, inbox);
      const bound = await server.listen().catch((err: unknown) => {
        throw new StartError(`cannot listen for POP3 on ${listen.host}:${listen.port}: ${listenFailure(err)}`);
      });
      closers.push(() => server.close());
      lines.push(`inbox over POP3 on pop3${implicit ? 's' : ''}://${formatHostPort(bound.address, bound.port)}`);
    }
    if (metrics && config.metrics && config.metrics !== 'inbox') {
      const { host, port } = config.metrics;
      const { serveMetrics } = await import('../http/metrics.js');
      const own = await serveMetrics(metrics, host, port).catch((err: unknown) => {
        throw new StartError(`cannot listen on ${host}:${port} for --metrics: ${listenFailure(err)}`);
      });
      closers.push(() => own.close());
      lines.push(`metrics on ${own.url}`);
    } else if (metrics && served) lines.push(`metrics on ${served.url}/metrics`);
  } catch (err) {
    await close();
    throw err;
  }
  return { lines, close };
}
