/**
 * One client connection: adapts a socket to its sans-I/O channel. It writes
 * the replies, pauses the socket while a message is with the handler (so a
 * pipelining client cannot make us buffer without bound), and enforces the
 * RFC 5321 4.5.3.2 timeouts. No SMTP rule lives here.
 */
import type net from 'node:net';
import { SMTPChannel } from './channel/channel.js';
import { formatReply, reply, type Reply } from './channel/reply.js';
import type { Action, ChannelConfig, ChannelMessage } from './channel/types.js';
import type { Endpoint, Message } from './message.js';

/** Timeouts in milliseconds; 0 disables one. */
export interface Timeouts {
  /** Waiting for the next command (RFC 5321 4.5.3.2.7: 5 minutes). */
  readonly command: number;
  /** Silence inside DATA (RFC 5321 4.5.3.2.5: 3 minutes per data block). */
  readonly data: number;
  /**
   * A whole transaction, MAIL to the final dot (RFC 5321 4.5.3.2.6: 10
   * minutes): a client trickling a byte every few seconds cannot hold it open.
   */
  readonly transaction: number;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly channelConfig: ChannelConfig;
  readonly timeouts: Timeouts;
  readonly traceStream: NodeJS.WritableStream | undefined;
  /** Runs the handler; resolves with the verdict (undefined for 250), never rejects. */
  handle(message: Message): Promise<Reply | undefined>;
  nextId(): string;
  /** A message was answered 2xx. */
  accepted(message: Message): void;
  /** The connection has closed. */
  forget(connection: Connection): void;
}

const R421_SHUTDOWN = (host: string) => reply(421, `${host} Service closing transmission channel`);
const R421_TIMEOUT = (host: string) => reply(421, `${host} Error: timeout exceeded`);

export class Connection {
  readonly channel: SMTPChannel;
  /** A message is with the handler; the socket is paused. */
  private busy = false;
  private closing = false;
  private transactionTimer: NodeJS.Timeout | undefined;
  private idleTimeout = -1;

  constructor(
    private readonly host: ConnectionHost,
    readonly socket: net.Socket,
    readonly peer: Endpoint,
    readonly local: Endpoint,
  ) {
    this.channel = new SMTPChannel(host.channelConfig);
    socket.on('data', (chunk: Buffer) => this.apply(this.channel.receive(chunk)));
    socket.on('end', () => this.apply(this.channel.eof()));
    socket.on('error', () => {}); // ECONNRESET and friends: 'close' follows
    socket.on('timeout', () => this.expire());
    socket.on('close', () => {
      clearTimeout(this.transactionTimer);
      this.channel.eof();
      host.forget(this);
    });
    this.trace('connected');
    this.apply(this.channel.greet());
  }

  /** Carries out the channel's actions in order, then re-arms the timers for the new state. */
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
    this.armTimers();
  }

  /** Ends the session now if idle, or after the transaction in flight. */
  shutdown(): void {
    this.closing = true;
    if (this.busy) return;
    // A transaction in flight (after MAIL, in DATA, or with pipelined input
    // held) may finish within the grace period.
    if (this.channel.mailFrom !== null || this.channel.stateName === 'data' || this.channel.heldBytes > 0) return;
    this.apply(this.channel.abort(R421_SHUTDOWN(this.host.channelConfig.hostname)));
  }

  /** Ends the session unconditionally (grace period over). */
  abort(): void {
    this.apply(this.channel.abort(R421_SHUTDOWN(this.host.channelConfig.hostname)));
    this.socket.destroySoon();
  }

  private flush(text: string): void {
    if (text === '' || this.socket.destroyed) return;
    if (this.host.traceStream) for (const line of text.slice(0, -2).split('\r\n')) this.trace(`>>> ${line}`);
    this.socket.write(text);
  }

  private async deliver(data: ChannelMessage): Promise<void> {
    this.busy = true;
    this.socket.pause();
    const message: Message = { ...data, id: this.host.nextId(), receivedAt: new Date(), peer: this.peer, local: this.local };
    this.trace(`<<< [message ${message.id}: ${message.data.length} bytes]`);
    // The 250 goes out only after the handler has finished with the message
    // (printed and flushed it), so a 250 always means "written".
    const verdict = await this.host.handle(message);
    this.busy = false;
    this.apply(this.channel.settle(verdict));
    if (verdict === undefined || verdict.code < 400) this.host.accepted(message);
    if (this.closing) return this.shutdown();
    if (!this.socket.destroyed) this.socket.resume();
  }

  /** Inactivity timeout for the current state; the transaction bound from MAIL on. */
  private armTimers(): void {
    const t = this.host.timeouts;
    // While the handler has the message, the client is waiting on us.
    const idle = this.busy ? 0 : this.channel.stateName === 'data' ? t.data : t.command;
    if (idle !== this.idleTimeout) {
      this.socket.setTimeout(idle);
      this.idleTimeout = idle;
    }
    const inTransaction = this.channel.mailFrom !== null && !this.busy;
    if (inTransaction && this.transactionTimer === undefined && t.transaction > 0) {
      this.transactionTimer = setTimeout(() => this.expire(), t.transaction);
    } else if (!inTransaction && this.transactionTimer !== undefined) {
      clearTimeout(this.transactionTimer);
      this.transactionTimer = undefined;
    }
  }

  private expire(): void {
    this.trace('timeout');
    this.apply(this.channel.abort(R421_TIMEOUT(this.host.channelConfig.hostname)));
    this.socket.destroySoon();
  }

  private trace(text: string): void {
    this.host.traceStream?.write(`${this.peer.address}:${this.peer.port} ${text}\n`);
  }
}
