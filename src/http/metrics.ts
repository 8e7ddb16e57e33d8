/**
 * `--metrics`: the sink's figures in Prometheus's text format, made with
 * prom-client (loaded only when the flag asks for it): the SMTP side's
 * sessions, messages accepted and refused with their sizes, the inbox's
 * messages, unread, bytes and mailboxes, and Node's own (event-loop delay,
 * memory, CPU). Served at `/metrics` on the inbox's HTTP server, or on an
 * address of its own that serves nothing else.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Inbox } from '../inbox/inbox.js';
import type { RefusalEvent } from '../message.js';
import { isAcceptance, type Reply } from '../channel/reply.js';
import type { Message } from '../message.js';
import type { SMTPServer } from '../server/server.js';
import { SECURITY_HEADERS } from './responses.js';

/** The sizes the message-size histogram counts in, in bytes: 1 KiB to 32 MiB. */
const SIZE_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 32768].map((k) => k * 1024);

/** What a refusal is counted under: its command's verb (`MAIL`, `RCPT`, `CONNECT`, ...), bounded. */
const verb = (command: string) => (/^[A-Za-z]{1,12}/.exec(command)?.[0] ?? 'OTHER').toUpperCase();

export class SinkMetrics {
  private constructor(
    private readonly registry: import('prom-client').Registry,
    readonly contentType: string,
  ) {}

  /** Counts `servers`' sessions and messages and reads `inbox`'s counts at each scrape. */
  static async create(servers: readonly SMTPServer[], inbox: Inbox | null): Promise<SinkMetrics> {
    const client = await import('prom-client');
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const sessions = new client.Counter({
      name: 'smtpd_ts_sessions_total',
      help: 'SMTP sessions begun (connections past the limits)',
      registers,
    });
    const accepted = new client.Counter({
      name: 'smtpd_ts_messages_accepted_total',
      help: 'Messages answered 250 (or 2xx) after their data',
      registers,
    });
    const refused = new client.Counter({
      name: 'smtpd_ts_messages_refused_total',
      help: 'Messages whose data was refused, by reply code',
      labelNames: ['code'],
      registers,
    });
    const sizes = new client.Histogram({
      name: 'smtpd_ts_message_size_bytes',
      help: 'Sizes of accepted messages',
      buckets: SIZE_BUCKETS,
      registers,
    });
    const refusals = new client.Counter({
      name: 'smtpd_ts_refusals_total',
      help: 'Commands and connections refused (a 552 over --size, 421 over a limit, 530, 535, a failed handshake)',
      labelNames: ['command', 'code'],
      registers,
    });
    new client.Gauge({
      name: 'smtpd_ts_connections',
      help: 'SMTP connections open now',
      registers,
      collect() {
        this.set(servers.reduce((n, s) => n + s.connectionCount, 0));
      },
    });
    for (const server of servers) {
      server.on('session', () => sessions.inc());
      server.on('settled', (message: Message, verdict: Reply | undefined) => {
        if (isAcceptance(verdict)) {
          accepted.inc();
          sizes.observe(message.data.length);
        } else refused.inc({ code: String(verdict?.code ?? 0) });
      });
      server.on('refusal', (r: RefusalEvent) =>
        refusals.inc({ command: verb(r.command), code: String(r.reply?.code ?? 'handshake') }),
      );
    }
    if (inbox) inboxGauges(client, registers, inbox);
    return new SinkMetrics(registry, registry.contentType);
  }

  /** The figures now, in Prometheus's text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The inbox's counts, read once per scrape. */
function inboxGauges(client: typeof import('prom-client'), registers: import('prom-client').Registry[], inbox: Inbox) {
  let scrape: Promise<Awaited<ReturnType<Inbox['stats']>>> | null = null;
  // Every gauge's collect asks; one scrape reads the stats once.
  const stats = () => {
    scrape ??= inbox.stats().finally(() => setImmediate(() => (scrape = null)));
    return scrape;
  };
  new client.Gauge({
    name: 'smtpd_ts_inbox_messages',
    help: 'Messages in the inbox',
    registers,
    async collect() {
      this.set((await stats()).total);
    },
  });
  new client.Gauge({
    name: 'smtpd_ts_inbox_unread',
    help: 'Unread messages in the inbox',
    registers,
    async collect() {
      this.set((await stats()).unread);
    },
  });
  new client.Gauge({
    name: 'smtpd_ts_inbox_deleted',
    help: 'Messages deleted or pruned since the start',
    registers,
    async collect() {
      this.set((await stats()).deleted);
    },
  });
  new client.Gauge({
    name: 'smtpd_ts_inbox_bytes',
    help: 'Bytes of the messages in the inbox (not counted with --store)',
    registers,
    async collect() {
      const { bytes } = await stats();
      if (bytes !== undefined) this.set(bytes);
    },
  });
  new client.Gauge({
    name: 'smtpd_ts_mailbox_messages',
    help: 'Messages in each mailbox (--mailbox)',
    labelNames: ['mailbox', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const m of (await stats()).mailboxes) {
        this.set({ mailbox: m.name, state: 'all' }, m.total);
        this.set({ mailbox: m.name, state: 'unread' }, m.unread);
      }
    },
  });
}

/** `--metrics HOST:PORT`: a server of its own that answers `GET /metrics` and nothing else. */
export async function serveMetrics(
  metrics: SinkMetrics,
  host: string,
  port: number,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '').split('?')[0];
    const fail = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    if (path !== '/metrics') return fail(404, 'Not found: this address serves /metrics only');
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'Method not allowed');
    metrics.text().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: Error) => fail(500, `the figures could not be read: ${err.message}`),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
