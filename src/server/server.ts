/**
 * The server: adapts `node:net` sockets to the sans-I/O channel. It owns
 * everything that needs I/O or time (accepting, writing replies, pausing a
 * socket while a message is handled, graceful shutdown) and no SMTP rule.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { R, formatReply, isAcceptance, parseReply, replyOf, type Reply, type Verdict } from '../channel/reply.js';
import { countBareLineEndings } from '../channel/data-decoder.js';
import { transactionRefusal } from '../channel/transaction-rules.js';
import {
  resolveChannelConfig,
  SMTP_DEFAULTS,
  type AuthConfig,
  type ChannelConfig,
  type RuleEvent,
  type RuleOutcome,
  type SmtpSettings,
} from '../channel/config.js';
import { CLOSE_LINGER_MS, Connection, type ConnectionHost, type RecipientPolicy, type Timeouts } from './connection.js';
import type { Endpoint, Message, RefusalEvent } from '../message.js';
import type { FinishedSession } from '../transcript/transcript.js';
import { blockListOf, isLoopbackHost, LOOPBACK_CIDRS } from '../loopback.js';
import { BODY_BUDGET_DEFAULT, BodyBudget } from './body-budget.js';
import { ConnectionLimits } from './connection-limits.js';
import { VERSION } from '../version.js';
import { ReplyError } from '../errors.js';

/** What a message handler may answer (reply.ts). */
export type { Verdict };

/** Receives each completed message; see `src/handlers/`. */
export interface Handler {
  handleMessage(message: Message): Verdict | Promise<Verdict>;
}

/** smtpd's `process_message` keyword arguments. */
export interface ProcessMessageOptions {
  readonly mailOptions: readonly string[];
  readonly rcptOptions: readonly string[];
}

/**
 * The server's options: every SMTP setting under its one name (SmtpSettings,
 * src/channel/config.ts; absent ones take SMTP_DEFAULTS in the channel), and
 * what only a server has: sockets, TLS, time, logs.
 */
export interface ServerOptions extends Partial<Omit<SmtpSettings, 'auth'>> {
  /**
   * AUTH PLAIN, LOGIN, CRAM-MD5 (RFC 4954). On by default, accepting any
   * credentials; offered only over TLS unless listening on loopback or
   * `insecure` is set. `users` checks them (535 on failure); `required`
   * answers 530 to MAIL without AUTH. `null` turns AUTH off.
   */
  auth?: Partial<Omit<AuthConfig, 'challenge'>> | null;
  /** Name in the greeting and EHLO reply (default: os.hostname()). */
  hostname?: string;
  /** Handles each message; without one, `processMessage` must be overridden. */
  handler?: Handler;
  /** Writes a protocol trace (`--debug`) here, one line per line. */
  trace?: NodeJS.WritableStream;
  /** Where handler failures are reported (default process.stderr). */
  log?: NodeJS.WritableStream;
  /** Open connections at most; one more gets 421 and is closed. 0: no limit. Default 1024. */
  maxConnections?: number;
  /** Timeouts in milliseconds (0 disables one); defaults from RFC 5321 4.5.3.2. */
  timeouts?: Partial<Timeouts>;
  /**
   * Decides each RCPT: undefined accepts the recipient, a reply refuses it
   * (relaying's `--relay-allow`, `--relay-domains`: src/relay/policy.ts).
   * Synchronous and pure: the channel asks it without doing I/O.
   */
  acceptRecipient?: RecipientPolicy;
  /** A PEM certificate and key: STARTTLS is offered (RFC 3207), or TLS starts at once with `tlsImplicit`. */
  tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** TLS from the first byte (SMTPS, RFC 8314); needs `tls`. */
  tlsImplicit?: boolean;
  /** Expect a PROXY protocol v1/v2 header on each connection; default false. */
  proxyProtocol?: boolean;
  /**
   * With `proxyProtocol`: the peers (CIDRs) whose PROXY header is believed;
   * default loopback. Anyone else is a client like any other, known by its
   * own address, so nobody can claim another's to pass `--relay-allow`.
   */
  proxyFrom?: readonly string[];
  /**
   * Scripted replies and faults (`--reply`, src/rules/engine.ts): asked at
   * the greeting, before each command and at the end of the data.
   */
  replyRule?: (event: RuleEvent) => RuleOutcome | undefined;
  /** At most `count` new connections within `windowMs`; more get 421 and a close (smtp-sink's and Jim's rate fault). */
  connectionRate?: { readonly count: number; readonly windowMs: number } | null;
  /** `--transcript`: each finished session's dialogue (AUTH secrets hidden) is given here. */
  transcript?: (session: FinishedSession) => void;
  /**
   * Each message carries the dialogue that led to it (`Message.dialogue`),
   * also without `transcript`: the inbox shows it.
   */
  dialogue?: boolean;
  /**
   * Bytes of message bodies all connections may hold in memory at once;
   * past it, connections are paused (never refused) until bytes are let go
   * (src/server/body-budget.ts). 0: no budget. Default BODY_BUDGET_DEFAULT.
   */
  bodyBudget?: number;
  /**
   * Asked for each new connection instead of `maxConnections` and
   * `connectionRate` (which it replaces): `--workers` counts every worker's
   * connections in one place (src/cli/workers/).
   */
  admission?: Admission;
  /**
   * Listen on a port of its own (the default), or share it with the other
   * workers of a node:cluster (`--workers`).
   */
  exclusive?: boolean;
}

/** Decides on new connections for a group of servers (`ServerOptions.admission`). */
export interface Admission {
  /** Null admits the connection; a reason (`too many connections`) refuses it with 421. */
  admit(): Promise<string | null>;
  /** An admitted connection has closed. */
  release(): void;
}

/** The SMTP settings among `options`, and nothing else (the channel is given no server option). */
function pickSmtpSettings(options: ServerOptions): Partial<SmtpSettings> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(SMTP_DEFAULTS) as (keyof SmtpSettings)[]) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as Partial<SmtpSettings>;
}

/** RFC 5321 4.5.3.2's timeouts: 5 minutes for a command, 3 for a data block, 10 for a transaction. */
export const DEFAULT_TIMEOUTS: Timeouts = { command: 300_000, data: 180_000, transaction: 600_000 };

/** Default open connections at most (`--max-connections`). */
export const DEFAULT_MAX_CONNECTIONS = 1024;

/** Default grace period for transactions in flight at shutdown, in milliseconds. */
export const SHUTDOWN_GRACE_MS = 3000;

/**
 * An SMTP server in the spirit of Python's `smtpd.SMTPServer`: it accepts
 * every connection and hands each completed message to `processMessage`
 * (or the handler given in the options).
 *
 * Events: `message` (a Message answered 2xx), `refusal` (a RefusalEvent: a
 * command answered 4xx/5xx by the protocol, a connection over a limit, a
 * failed TLS handshake; not the handler's own verdicts).
 */
export class SMTPServer extends EventEmitter implements ConnectionHost {
  readonly channelConfig: ChannelConfig;
  readonly timeouts: Timeouts;
  readonly maxConnections: number;
  readonly traceStream: NodeJS.WritableStream | undefined;
  readonly acceptRecipient: RecipientPolicy | undefined;
  readonly tls: { readonly context: tls.SecureContext; readonly implicit: boolean } | undefined;
  readonly proxyProtocol: (peer: string) => boolean;
  readonly transcripts: ConnectionHost['transcripts'];
  readonly budget: BodyBudget;
  /** `maxConnections` and `connectionRate`, counted (without `admission`). */
  private readonly limits: ConnectionLimits;
  private sessions = 0;
  private readonly handler: Handler | undefined;
  private readonly log: NodeJS.WritableStream;
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  /** Sockets refused with 421 over a limit, until they close: shutdown must not wait on them. */
  private readonly refusedSockets = new Set<net.Socket>();
  private count = 0;
  private readonly admission: Admission | undefined;
  private readonly exclusive: boolean;
  private closing = false;

  /**
   * @param localaddr where to listen (`port: 0` picks a free port)
   * @param remoteaddr the upstream, for relaying servers (smtpd's remoteaddr)
   */
  constructor(
    readonly localaddr: { host: string; port: number },
    readonly remoteaddr: { host: string; port: number } | null = null,
    options: ServerOptions = {},
  ) {
    super();
    if (options.tlsImplicit && !options.tls) throw new TypeError('tlsImplicit needs tls (a certificate and key)');
    const hostname = options.hostname ?? os.hostname();
    const { auth, tls: tlsOptions, tlsImplicit, ...settings } = options;
    this.channelConfig = resolveChannelConfig({
      ...pickSmtpSettings(settings),
      hostname,
      banner: `smtpd-ts ${VERSION}`,
      // The transcript records the received lines from the channel's trace.
      trace: options.trace !== undefined || options.transcript !== undefined || options.dialogue === true,
      starttls: tlsOptions !== undefined && !tlsImplicit,
      auth:
        auth === null
          ? null
          : {
              ...auth,
              insecure: auth?.insecure ?? isLoopbackHost(localaddr.host),
              // RFC 2195: unique per exchange; randomness is the server's job, not the channel's.
              challenge: () => `<${randomBytes(8).toString('hex')}.${Date.now()}@${hostname}>`,
            },
      ...(options.replyRule ? { replyRule: options.replyRule } : {}),
    });
    const transcript = options.transcript;
    this.transcripts = transcript
      ? { nextId: () => `${process.pid}.s${++this.sessions}`, finished: (session) => transcript(session) }
      : options.dialogue
        ? { nextId: () => '', finished: () => {}, dialogueOnly: true }
        : undefined;
    this.tls = options.tls
      ? {
          context: tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key }),
          implicit: options.tlsImplicit ?? false,
        }
      : undefined;
    this.proxyProtocol = options.proxyProtocol ? blockListOf(options.proxyFrom ?? LOOPBACK_CIDRS) : () => false;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.limits = new ConnectionLimits(this.maxConnections, options.connectionRate ?? null);
    this.budget = new BodyBudget(options.bodyBudget ?? BODY_BUDGET_DEFAULT);
    this.admission = options.admission;
    this.exclusive = options.exclusive ?? true;
    this.traceStream = options.trace;
    this.acceptRecipient = options.acceptRecipient;
    this.handler = options.handler;
    this.log = options.log ?? process.stderr;
    // Half-open: a client that sends its session and then shuts down its
    // side still gets every reply (the connection closes ours after them).
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; resolves once connections are accepted, with the real address. */
  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.localaddr.host, port: this.localaddr.port, exclusive: this.exclusive }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.write(`smtpd-ts: ${err.message}\n`));
        resolve(this.address);
      });
    });
  }

  /** The address listened on (valid after `listen()`). */
  get address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops accepting, lets transactions in flight finish for up to `graceMs`
   * (idle sessions get 421 at once), then closes what is left with 421.
   */
  async close(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.refusedSockets) s.destroy();
    for (const c of this.connections) c.shutdown();
    if (this.connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = new Promise<void>((resolve) => this.once('drained', resolve));
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([drained, expired]);
      clearTimeout(timer);
      for (const c of this.connections) c.abort();
    }
    await closed;
  }

  /**
   * smtpd's hook, called with smtpd's arguments for each message. Return
   * nothing for `250 OK` or a reply string such as `'550 No such user'`.
   * The default hands the message to the handler given in the options.
   */
  processMessage(
    peer: [string, number],
    mailFrom: string,
    rcptTos: readonly string[],
    data: Buffer,
    options: ProcessMessageOptions,
  ): Verdict | Promise<Verdict> {
    void [peer, mailFrom, rcptTos, data, options];
    throw new Error('SMTPServer.processMessage is not implemented: pass a handler or override it');
  }

  /** Runs the handler (or processMessage) and turns its outcome into a reply; never throws. */
  async handle(message: Message): Promise<Reply | undefined> {
    try {
      const verdict = this.handler
        ? await this.handler.handleMessage(message)
        : await this.processMessage(
            [message.peer.address, message.peer.port],
            message.mailFrom,
            message.rcptTos,
            message.data,
            {
              mailOptions: message.mailOptions,
              rcptOptions: message.rcptOptions,
            },
          );
      if (typeof verdict === 'string' && verdict !== '' && parseReply(verdict) === undefined)
        this.log.write(`smtpd-ts: handler returned a reply without a valid code: ${JSON.stringify(verdict)}\n`);
      return replyOf(verdict);
    } catch (err) {
      if (err instanceof ReplyError) {
        this.log.write(`smtpd-ts: message ${message.id} answered ${err.reply.code}: ${err.message}\n`);
        return err.reply;
      }
      // The client hears a temporary failure, never our internals (STYLE 11).
      this.log.write(
        `smtpd-ts: error while handling message ${message.id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      return R.R451_HANDLER_FAILED;
    }
  }

  /**
   * Hands a message that did not come over SMTP (the HTTP API's send) to the
   * handler as if it had, from `peer`: resolves with the message and the
   * verdict (undefined for 250); an accepted one is emitted as `message`, as
   * a message received over SMTP is.
   */
  async submit(
    envelope: { readonly from: string; readonly to: readonly string[] },
    data: Buffer,
    peer: Endpoint,
    authenticated = false,
  ): Promise<{ readonly message: Message; readonly verdict: Reply | undefined }> {
    const message: Message = {
      id: this.nextId(),
      receivedAt: new Date(),
      peer,
      local: { address: this.address.address, port: this.address.port },
      helo: '',
      extended: true,
      mailFrom: envelope.from,
      rcptTos: envelope.to,
      mailOptions: [],
      rcptOptions: [],
      data,
      bareLineEndings: countBareLineEndings(data),
    };
    const refusal = this.admit(envelope, data.length, peer, authenticated);
    if (refusal) return { message, verdict: refusal };
    const verdict = await this.handle(message);
    this.settled(message, verdict);
    return { message, verdict };
  }

  /**
   * The rules an SMTP client's transaction passes, for a message that did
   * not come over SMTP (the HTTP API's send and release): AUTH where it is
   * required (`authenticated`: the API's own login), the size limit, the
   * recipient count, and the relay policy for each recipient. Undefined when
   * it passes, else the reply SMTP would have given.
   */
  admit(
    envelope: { readonly to: readonly string[] },
    size: number,
    peer: Endpoint,
    authenticated: boolean,
  ): Reply | undefined {
    const policy = this.acceptRecipient;
    return transactionRefusal(
      { ...this.channelConfig, acceptRecipient: policy ? (address) => policy(address, peer) : undefined },
      { authenticated, size, to: envelope.to },
    );
  }

  /** @internal */
  reportError(err: unknown): void {
    this.log.write(
      `smtpd-ts: internal error on a connection (dropped): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }

  /** @internal */
  nextId(): string {
    this.count += 1;
    return `${process.pid}.${this.count}`;
  }

  /**
   * @internal A message handed to the handler has its reply: `message` when
   * it was accepted, and `settled` for every one (with the verdict), once the
   * reply is written (what `--workers`' primary waits for, protocol.ts).
   */
  settled(message: Message, verdict: Reply | undefined): void {
    if (isAcceptance(verdict)) this.emit('message', message);
    this.emit('settled', message, verdict);
  }

  /** @internal */
  refused(refusal: RefusalEvent): void {
    this.emit('refusal', refusal);
  }

  /** @internal */
  forget(c: Connection): void {
    if (this.connections.delete(c)) (this.admission ?? this.limits).release();
    if (this.connections.size === 0) this.emit('drained');
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    if (this.admission) return this.askAdmission(this.admission, socket, peer, local);
    this.begin(socket, peer, local, this.limits.admit());
  }

  /** Asks `admission`; what the client sends meanwhile waits in the socket (nothing reads it yet). */
  private askAdmission(admission: Admission, socket: net.Socket, peer: Endpoint, local: Endpoint): void {
    socket.on('error', () => {});
    admission.admit().then(
      (tooMany) => {
        if (tooMany === null && (socket.destroyed || this.closing)) {
          admission.release();
          socket.destroy();
          return;
        }
        this.begin(socket, peer, local, tooMany);
      },
      (err: unknown) => {
        this.reportError(err);
        socket.destroy();
      },
    );
  }

  /** Starts the session, or refuses it with 421 when `tooMany` says why. */
  private begin(socket: net.Socket, peer: Endpoint, local: Endpoint, tooMany: string | null): void {
    if (tooMany !== null) {
      // RFC 5321 3.1: a server may refuse a session with 421 at the greeting.
      // It is destroyed soon after, read or not, so it holds nothing.
      socket.on('error', () => {});
      this.refusedSockets.add(socket);
      const linger = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
      socket.on('close', () => {
        clearTimeout(linger);
        this.refusedSockets.delete(socket);
      });
      const reply = R.R421_TOO_MANY_CONNECTIONS(this.channelConfig.hostname, tooMany);
      socket.end(formatReply(reply));
      this.refused({ peer, command: 'CONNECT', reply, reason: null });
      return;
    }
    this.connections.add(new Connection(this, socket, peer, local));
    this.emit('session', peer);
  }
}
