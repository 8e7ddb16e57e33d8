/**
 * The server: adapts `node:net` sockets to the sans-I/O channel. It owns
 * everything that needs I/O or time (accepting, writing replies, pausing a
 * socket while a message is handled, graceful shutdown) and no SMTP rule.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import { SMTPChannel } from './channel/channel.js';
import { R, formatReply, parseReply, reply, type Reply } from './channel/reply.js';
import { DATA_SIZE_DEFAULT, type Action, type ChannelMessage } from './channel/types.js';
import type { Endpoint, Message } from './message.js';
import { VERSION } from './version.js';

/** What a message handler may answer: nothing for `250 OK`, a reply, or a reply string as smtpd's process_message returned. */
export type Verdict = Reply | string | undefined | void;

/** Receives each completed message; see `src/handlers/`. */
export interface Handler {
  handleMessage(message: Message): Verdict | Promise<Verdict>;
}

/** smtpd's `process_message` keyword arguments. */
export interface ProcessMessageOptions {
  readonly mailOptions: readonly string[];
  readonly rcptOptions: readonly string[];
}

export interface ServerOptions {
  /** Largest message in bytes, 0 for none (default 33554432, smtpd's DATA_SIZE_DEFAULT). */
  dataSizeLimit?: number;
  /** Advertise and accept SMTPUTF8. */
  enableSMTPUTF8?: boolean;
  /** Name in the greeting and EHLO reply (default: os.hostname()). */
  hostname?: string;
  /** Handles each message; without one, `processMessage` must be overridden. */
  handler?: Handler;
  /** Writes a protocol trace (`--debug`) here, one line per line. */
  trace?: NodeJS.WritableStream;
  /** Where handler failures are reported (default process.stderr). */
  log?: NodeJS.WritableStream;
}

/** Default grace period for transactions in flight at shutdown, in milliseconds. */
export const SHUTDOWN_GRACE_MS = 3000;

const R421_SHUTDOWN = (host: string) => reply(421, `${host} Service closing transmission channel`);

/** One client connection: a socket and its channel. */
class Connection {
  readonly channel: SMTPChannel;
  /** A message is with the handler; the socket is paused. */
  busy = false;
  closing = false;

  constructor(
    readonly server: SMTPServer,
    readonly socket: net.Socket,
    readonly peer: Endpoint,
    readonly local: Endpoint,
  ) {
    this.channel = new SMTPChannel(server.channelConfig);
    socket.on('data', (chunk: Buffer) => this.apply(this.channel.receive(chunk)));
    socket.on('end', () => this.apply(this.channel.eof()));
    socket.on('error', () => {}); // ECONNRESET and friends: 'close' follows
    socket.on('close', () => {
      this.channel.eof();
      server.forget(this);
    });
    this.trace('connected');
    this.apply(this.channel.greet());
  }

  /** Carries out the channel's actions in order. */
  apply(actions: Action[]): void {
    let text = '';
    for (const action of actions) {
      switch (action.kind) {
        case 'reply':
          text += formatReply(action.reply);
          break;
        case 'trace':
          this.trace(`<<< ${action.line}`);
          break;
        case 'message':
          this.flush(text);
          text = '';
          void this.deliver(action.message);
          break;
        case 'close':
          this.flush(text);
          text = '';
          this.socket.end();
          break;
        default: {
          const never: never = action;
          throw new Error(`unknown action ${JSON.stringify(never)}`);
        }
      }
    }
    this.flush(text);
  }

  private flush(text: string): void {
    if (text === '' || this.socket.destroyed) return;
    if (this.server.traceStream) for (const line of text.slice(0, -2).split('\r\n')) this.trace(`>>> ${line}`);
    this.socket.write(text);
  }

  private async deliver(data: ChannelMessage): Promise<void> {
    this.busy = true;
    this.socket.pause();
    const message: Message = {
      ...data,
      id: this.server.nextId(),
      receivedAt: new Date(),
      peer: this.peer,
      local: this.local,
    };
    this.trace(`<<< [message ${message.id}: ${message.data.length} bytes]`);
    // The 250 goes out only after the handler has finished with the message
    // (printed and flushed it), so a 250 always means "written".
    const verdict = await this.server.handle(message);
    this.busy = false;
    this.apply(this.channel.settle(verdict));
    if (verdict === undefined || verdict.code < 400) this.server.emit('message', message);
    if (this.closing) return this.shutdown();
    if (!this.socket.destroyed) this.socket.resume();
  }

  /** Ends the session now if idle, or after the message in flight. */
  shutdown(): void {
    this.closing = true;
    if (this.busy) return;
    // A transaction in flight (after MAIL, in DATA, or with pipelined input
    // held) may finish within the grace period.
    if (this.channel.mailFrom !== null || this.channel.stateName === 'data' || this.channel.heldBytes > 0) return;
    this.apply(this.channel.abort(R421_SHUTDOWN(this.server.channelConfig.hostname)));
  }

  /** Ends the session unconditionally (grace period over). */
  abort(): void {
    this.apply(this.channel.abort(R421_SHUTDOWN(this.server.channelConfig.hostname)));
    this.socket.destroySoon();
  }

  private trace(text: string): void {
    this.server.traceStream?.write(`${this.peer.address}:${this.peer.port} ${text}\n`);
  }
}

/**
 * An SMTP server in the spirit of Python's `smtpd.SMTPServer`: it accepts
 * every connection and hands each completed message to `processMessage`
 * (or the handler given in the options).
 */
export class SMTPServer extends EventEmitter {
  readonly channelConfig: {
    hostname: string;
    banner: string;
    dataSizeLimit: number;
    enableSMTPUTF8: boolean;
    trace: boolean;
  };
  readonly traceStream: NodeJS.WritableStream | undefined;
  private readonly handler: Handler | undefined;
  private readonly log: NodeJS.WritableStream;
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private count = 0;

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
    this.channelConfig = {
      hostname: options.hostname ?? os.hostname(),
      banner: `smtpd-ts ${VERSION}`,
      dataSizeLimit: options.dataSizeLimit ?? DATA_SIZE_DEFAULT,
      enableSMTPUTF8: options.enableSMTPUTF8 ?? false,
      trace: options.trace !== undefined,
    };
    this.traceStream = options.trace;
    this.handler = options.handler;
    this.log = options.log ?? process.stderr;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves once connections are accepted, with the real address. */
  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.localaddr.host, port: this.localaddr.port, exclusive: true }, () => {
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
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
        : await this.processMessage([message.peer.address, message.peer.port], message.mailFrom, message.rcptTos, message.data, {
            mailOptions: message.mailOptions,
            rcptOptions: message.rcptOptions,
          });
      if (verdict === undefined || verdict === null || verdict === '') return undefined;
      if (typeof verdict !== 'string') return verdict;
      const parsed = parseReply(verdict);
      if (parsed) return parsed;
      this.log.write(`smtpd-ts: handler returned a reply without a valid code: ${JSON.stringify(verdict)}\n`);
      return R.R451_HANDLER_FAILED;
    } catch (err) {
      // The client hears a temporary failure, never our internals (STYLE 11).
      this.log.write(`smtpd-ts: error while handling message ${message.id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return R.R451_HANDLER_FAILED;
    }
  }

  /** @internal */
  nextId(): string {
    this.count += 1;
    return `${process.pid}.${this.count}`;
  }

  /** @internal */
  forget(c: Connection): void {
    this.connections.delete(c);
    if (this.connections.size === 0) this.emit('drained');
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.connections.add(new Connection(this, socket, peer, local));
  }
}
