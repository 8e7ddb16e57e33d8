/**
 * The sink for test suites: start it from code, send mail to it, await what
 * arrived, assert. No HTTP API to poll and no sleeps:
 *
 * ```ts
 * const sink = await startSink();            // 127.0.0.1, a free port
 * await sendWelcomeMail({ port: sink.port });
 * const [mail] = await sink.waitForMessages(1);
 * assert.equal(mail.parsed?.subject, 'Welcome');
 * await sink.close();
 * ```
 */
import os from 'node:os';
import type { Message } from './message.js';
import type { Finding } from './lint/findings.js';
import { lintMessage } from './lint/lint.js';
import { searchPredicate } from './inbox/search.js';
import type { ParsedMessage } from './mime/parse-message.js';
import { SMTPServer, type Handler, type Verdict } from './server/server.js';
import { InboxHandler } from './handlers/inbox.js';
import { SinkTimeoutError } from './errors.js';
import type { TlsInfo } from './channel/actions.js';
import type { SmtpSettings } from './channel/config.js';
import { RuleEngine } from './rules/engine.js';
import { parseRule } from './rules/parse.js';
import { loadCredentialsFromPem, selfSignedCredentials } from './server/tls.js';

function isMap(users: object): users is ReadonlyMap<string, string> {
  return users instanceof Map;
}

/** The certificate and key for `tls`: generated for `hostname`, or the PEM given. */
async function sinkCredentials(
  tls: NonNullable<StartSinkOptions['tls']>,
  hostname: string,
): Promise<{ cert: string; key: string; fingerprint256: string; implicit: boolean }> {
  const given = typeof tls === 'object' ? tls : {};
  const implicit = given.implicit ?? false;
  if (given.cert !== undefined && given.key !== undefined)
    return { ...loadCredentialsFromPem(given.cert, given.key), implicit };
  if (given.cert !== undefined || given.key !== undefined)
    throw new TypeError('tls: give both cert and key, or neither');
  const generated = await selfSignedCredentials(hostname);
  return { cert: generated.cert, key: generated.key, fingerprint256: generated.fingerprint256, implicit };
}

/** One message the sink accepted: the envelope fields of Message, with the data as `raw`. */
export interface SinkMessage extends Pick<
  Message,
  'id' | 'receivedAt' | 'peer' | 'helo' | 'mailFrom' | 'mailOptions' | 'rcptOptions'
> {
  /** The TLS session it came over (STARTTLS or implicit), null in the clear; as the JSON's `tls`. */
  readonly tls: TlsInfo | null;
  /** The user it authenticated as, null without AUTH; as the JSON's `authUser`. */
  readonly authUser: string | null;
  /** The envelope recipients, in order (Message's `rcptTos`). */
  readonly rcptTo: readonly string[];
  /** The message exactly as received (dot-unstuffed), CRLF line endings (Message's `data`). */
  readonly raw: Buffer;
  /** Size of `raw` in bytes. */
  readonly size: number;
  /**
   * The message parsed with mailparser (subject, from, to, text, html,
   * attachments, headers...), or null with `parse: false` or when the
   * message cannot be parsed (then `parseError` says why).
   */
  readonly parsed: ParsedMessage | null;
  readonly parseError?: string;
  /** The protocol lint's findings (src/lint/): what the sender did wrong; empty for a clean message. */
  readonly lint: readonly Finding[];
  /**
   * The decoded bytes of `parsed.attachments[index]` (the summaries hold
   * only size and SHA-256): to check a generated CSV or PDF.
   */
  attachment(index: number): Promise<Buffer>;
}

/**
 * Options of {@link startSink}: the SMTP settings under the names
 * SMTPServer and the channel use (`dataSizeLimit`, `smtputf8`,
 * `maxRecipients`, `requireTls`, `chunking`, `lmtp`, ...; defaults in
 * SMTP_DEFAULTS), and what a test needs besides.
 */
export interface StartSinkOptions extends Partial<Omit<SmtpSettings, 'auth'>> {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; default 0, a free port (read it from `sink.port`). */
  port?: number;
  /** Name in the greeting and the EHLO reply (and of a generated certificate). Default: os.hostname(). */
  hostname?: string;
  /**
   * TLS: `true` generates a self-signed certificate for `hostname`,
   * localhost, 127.0.0.1 and ::1 (trust it with `sink.tls.cert`), or give a
   * PEM `cert` and `key`. STARTTLS is offered, or with `implicit` TLS starts
   * at the first byte (SMTPS, for clients with `secure: true`).
   */
  tls?: boolean | { readonly cert?: string; readonly key?: string; readonly implicit?: boolean };
  /**
   * AUTH PLAIN, LOGIN and CRAM-MD5. Default: offered (on loopback, or over
   * TLS), any credentials accepted. `users` (an object or a Map of user to
   * password) checks them, 535 otherwise; `required` answers 530 to MAIL
   * without AUTH; `null` turns AUTH off.
   */
  auth?: {
    readonly users?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
    readonly required?: boolean;
    readonly insecure?: boolean;
  } | null;
  /**
   * Scripted replies and faults, as `--reply` takes them
   * (`'RCPT~nobody@=550 5.1.1 No such user'`, `'EOD#2=451 try later'`, see
   * docs/testing-the-sender.md); `seed` makes `?P%` rules repeatable.
   */
  rules?: readonly string[];
  seed?: number;
  /** Parse each message with mailparser before accepting it. Default true. */
  parse?: boolean;
  /**
   * Decides each message's reply: return nothing to accept it (250), or a
   * reply such as `'550 No such user'` to refuse it (it is then not recorded).
   */
  onMessage?: (message: SinkMessage) => Verdict | Promise<Verdict>;
  /**
   * Serve the accepted messages over HTTP in Mailpit's and MailHog's APIs
   * (docs/http.md), for the published clients: `true` on 127.0.0.1 and a
   * free port, or where given. `sink.httpUrl` is its base URL.
   */
  http?: boolean | { readonly host?: string; readonly port?: number };
}

/** Options of the wait methods. */
export interface WaitOptions {
  /** Milliseconds to wait before rejecting with SinkTimeoutError. Default DEFAULT_WAIT_MS (5000). */
  timeout?: number;
}

/** How long the wait methods wait unless told otherwise, in milliseconds. */
export const DEFAULT_WAIT_MS = 5000;

/** The certificate a sink with TLS presents: PEM, to trust in the client (`tls: { ca: sink.tls.cert }`). */
export interface SinkTls {
  readonly cert: string;
  readonly fingerprint256: string;
  readonly implicit: boolean;
}

function describeMessage(m: SinkMessage, index: number): string {
  const subject = m.parsed?.subject;
  return `  #${index + 1} from ${m.mailFrom} to ${m.rcptTo.join(', ')}${subject != null ? ` subject ${JSON.stringify(subject)}` : ''}`;
}

/** A running sink. Create it with {@link startSink}. */
export class Sink {
  private readonly received: SinkMessage[] = [];
  private readonly waiters = new Set<() => void>();

  /** @internal use {@link startSink} */
  constructor(
    /** The underlying server, for advanced use. */
    readonly server: SMTPServer,
    /** The host listened on. */
    readonly host: string,
    /** The port listened on (the real one when 0 was asked). */
    readonly port: number,
    /** The certificate, when TLS is on; null otherwise. */
    readonly tls: SinkTls | null = null,
    /** With `http`, the inbox's base URL (`http://127.0.0.1:PORT`); null otherwise. */
    readonly httpUrl: string | null = null,
    private readonly stopHttp: () => Promise<void> = async () => {},
  ) {}

  /** Every message accepted so far, in arrival order. */
  get messages(): readonly SinkMessage[] {
    return this.received;
  }

  /** Forgets the messages received so far (between tests). */
  clear(): void {
    this.received.length = 0;
  }

  /**
   * Resolves with the first `count` messages once that many have arrived
   * (at once if they already have). Rejects with SinkTimeoutError, listing
   * what did arrive, when they do not arrive in time.
   */
  waitForMessages(count: number, options: WaitOptions = {}): Promise<SinkMessage[]> {
    return this.until(
      () => (this.received.length >= count ? this.received.slice(0, count) : undefined),
      `${count} message${count === 1 ? '' : 's'}`,
      options,
    );
  }

  /**
   * Resolves with the first message (received or future) that `match`
   * holds for: a predicate, or a search in Mailpit's query language
   * (`'subject:Welcome to:dev+t1@example.test'`, as `--http`'s search and
   * `latest?query=` read it). With `after` (a message or its `id`), only
   * messages received after that one count: "the next one", without a race.
   */
  waitFor(
    match: ((message: SinkMessage) => boolean) | string,
    options: WaitOptions & { readonly after?: SinkMessage | string } = {},
  ): Promise<SinkMessage> {
    const test = typeof match === 'string' ? queryTest(match) : match;
    const afterId = typeof options.after === 'string' ? options.after : options.after?.id;
    if (afterId !== undefined && !this.received.some((m) => m.id === afterId))
      return Promise.reject(new TypeError(`after: no message ${afterId} was received (or it was cleared)`));
    const what = typeof match === 'string' ? `a message matching '${match}'` : 'a message matching the predicate';
    return this.until(
      () => {
        const from = afterId === undefined ? 0 : this.received.findIndex((m) => m.id === afterId) + 1;
        return this.received.slice(from).find(test);
      },
      what,
      options,
    );
  }

  /** Stops the server: transactions in flight get a short grace period. */
  async close(): Promise<void> {
    await this.server.close();
    await this.stopHttp();
  }

  /** @internal records an accepted message and wakes the waiters */
  record(message: SinkMessage): void {
    this.received.push(message);
    for (const wake of [...this.waiters]) wake();
  }

  private until<T>(check: () => T | undefined, what: string, options: WaitOptions): Promise<T> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    return new Promise<T>((resolve, reject) => {
      const wake = () => {
        const found = check();
        if (found === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const list = this.received.map(describeMessage).join('\n');
        const arrived = this.received.length === 0 ? 'none arrived' : `${this.received.length} arrived:\n${list}`;
        reject(
          new SinkTimeoutError(`timed out after ${timeout} ms waiting for ${what}; ${arrived}`, [...this.received]),
        );
      }, timeout);
      this.waiters.add(wake);
      wake();
    });
  }
}

/** A Mailpit search as a predicate on received messages; a query it cannot read is a TypeError. */
function queryTest(query: string): (m: SinkMessage) => boolean {
  const test = searchPredicate(query);
  if (typeof test === 'string') throw new TypeError(`waitFor: ${test}`);
  return (m) =>
    test({
      parsed: m.parsed,
      mailbox: null,
      tags: [],
      read: false,
      message: { mailFrom: m.mailFrom, receivedAt: m.receivedAt, data: m.raw },
    });
}

async function toSinkMessage(message: Message, parse: boolean): Promise<SinkMessage> {
  const base = {
    attachment: async (index: number) => {
      const { attachmentContent } = await import('./mime/parse-message.js');
      return attachmentContent(message.data, index);
    },
    tls: message.tls ?? null,
    authUser: message.authUser ?? null,
    id: message.id,
    receivedAt: message.receivedAt,
    peer: message.peer,
    helo: message.helo,
    mailFrom: message.mailFrom,
    rcptTo: message.rcptTos,
    mailOptions: message.mailOptions,
    rcptOptions: message.rcptOptions,
    raw: message.data,
    size: message.data.length,
    lint: lintMessage(message),
  };
  if (!parse) return { ...base, parsed: null };
  // Loaded on first use so that importing the library stays cheap.
  const { parseMessage } = await import('./mime/parse-message.js');
  try {
    return { ...base, parsed: await parseMessage(message) };
  } catch (err) {
    return { ...base, parsed: null, parseError: (err as Error).message };
  }
}

/** The inbox (opened as the CLI opens it, in memory) and its HTTP server, listening. */
async function startInbox(where: { readonly host?: string; readonly port?: number }, hostname: string) {
  const [{ openInbox }, { InboxHttpServer }] = await Promise.all([
    import('./inbox/open-inbox.js'),
    import('./http/http-server.js'),
  ]);
  const inbox = await openInbox({ log: process.stderr });
  const server = new InboxHttpServer({ host: where.host ?? '127.0.0.1', port: where.port ?? 0, inbox, hostname });
  await server.listen();
  return { inbox, server, url: server.url };
}

/** Starts a sink on 127.0.0.1 and a free port; resolves once it accepts connections. */
export async function startSink(options: StartSinkOptions = {}): Promise<Sink> {
  const host = options.host ?? '127.0.0.1';
  const parse = options.parse ?? true;
  // What the handler built for each message, recorded once the server has
  // accepted it: the server alone turns a verdict into the reply sent
  // (a string without a valid code is a 451, not an acceptance).
  const built = new WeakMap<Message, SinkMessage>();
  // What is left after the sink's own options are the SMTP settings, passed on under their names.
  const {
    host: _host,
    port,
    hostname,
    tls,
    auth,
    rules,
    seed,
    parse: _parse,
    onMessage: _onMessage,
    http,
    ...smtp
  } = options;
  // Loaded only with `http`: importing the library stays cheap.
  const inbox = http ? await startInbox(http === true ? {} : http, hostname ?? os.hostname()) : null;
  // The test's verdict on each message; with `http`, the inbox handler keeps what it accepts, as the CLI's does.
  const judge: Handler = {
    async handleMessage(message) {
      const received = await toSinkMessage(message, inbox !== null || parse);
      built.set(message, received);
      intake?.note(message, { parse: { parsed: received.parsed, parseError: received.parseError ?? null } });
      return options.onMessage?.(received);
    },
  };
  const intake = inbox ? new InboxHandler(judge, inbox.inbox) : null;
  const credentials = tls ? await sinkCredentials(tls, hostname ?? os.hostname()) : null;
  const users = auth?.users;
  const server = new SMTPServer({ host, port: port ?? 0 }, null, {
    ...smtp,
    ...(hostname !== undefined ? { hostname } : {}),
    ...(credentials ? { tls: credentials, tlsImplicit: credentials.implicit } : {}),
    auth:
      auth === null
        ? null
        : {
            ...(auth?.required !== undefined ? { required: auth.required } : {}),
            ...(auth?.insecure !== undefined ? { insecure: auth.insecure } : {}),
            ...(users ? { users: isMap(users) ? users : new Map(Object.entries(users)) } : {}),
          },
    ...(rules && rules.length > 0 ? { replyRule: new RuleEngine(rules.map(parseRule), seed ?? 0).hook } : {}),
    handler: intake ?? judge,
  });
  const address = await server.listen().catch(async (err: unknown) => {
    await inbox?.server.close();
    throw err;
  });
  const sink = new Sink(
    server,
    host,
    address.port,
    credentials
      ? { cert: credentials.cert, fingerprint256: credentials.fingerprint256, implicit: credentials.implicit }
      : null,
    inbox?.url ?? null,
    async () => {
      await inbox?.server.close();
      await inbox?.inbox.close();
    },
  );
  server.on('message', (message: Message) => {
    const received = built.get(message);
    if (received) sink.record(received);
  });
  return sink;
}
