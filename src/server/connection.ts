/**
 * One client connection: adapts a socket to its sans-I/O channel. It writes
 * the replies, pauses the socket while a message is with the handler and
 * while the client is not reading what we wrote (so a pipelining client
 * cannot make us buffer without bound: input is fed to the channel a slice
 * at a time and held while the socket's write buffer is over
 * `WRITE_HIGH_WATER`), and enforces the RFC 5321 4.5.3.2 timeouts in every
 * state, TLS handshakes included. A client that half-closes gets every
 * reply it asked for before we close. It also owns the transport: the
 * PROXY protocol header before anything else, TLS from the first byte
 * (RFC 8314) or after the channel's `starttls` action (RFC 3207). No SMTP
 * rule lives here, and no exception in a socket event ends the process.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPChannel } from '../channel/channel.js';
import { R, formatReply, type Reply } from '../channel/reply.js';
import type { ChannelConfig } from '../channel/config.js';
import type { Action, ChannelMessage } from '../channel/actions.js';
import type { Endpoint, Message, RefusalEvent } from '../message.js';
import { ProxyPreamble } from './proxy-protocol.js';
import { serverTlsSocket } from './tls.js';
import { SessionLog, type TranscriptSink } from './session-log.js';
import type { BodyBudget } from './body-budget.js';

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

/** Whether a recipient is accepted at RCPT: undefined, or the reply that refuses it. */
export type RecipientPolicy = (address: string, peer: Endpoint) => Reply | undefined;

/** Bytes of replies queued on the socket past which we stop reading from the client until they drain. */
export const WRITE_HIGH_WATER = 64 * 1024;

/**
 * How much command-state input is given to the channel at once: every byte
 * may be a bare LF that gets a reply, so this bounds the replies one step
 * can queue (about 25 bytes each) before the write buffer is looked at again.
 */
const COMMAND_SLICE = 4096;

/** How long a closing connection may take to flush its last reply before it is destroyed, in ms. */
export const CLOSE_LINGER_MS = 2000;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly channelConfig: ChannelConfig;
  readonly timeouts: Timeouts;
  readonly traceStream: NodeJS.WritableStream | undefined;
  /** The bytes of messages held in memory, for every connection of the server. */
  readonly budget: BodyBudget;
  /** TLS, when configured: for STARTTLS, or from the first byte with `implicit` (RFC 8314). */
  readonly tls: { readonly context: tls.SecureContext; readonly implicit: boolean } | undefined;
  /** Whether a connection from this address starts with a PROXY header (PROXY protocol on, from a trusted balancer). */
  readonly proxyProtocol: (peer: string) => boolean;
  /** The RCPT policy, asked with the client's address (src/relay/policy.ts). */
  readonly acceptRecipient?: RecipientPolicy | undefined;
  /** Runs the handler; resolves with the verdict (undefined for 250), never rejects. */
  handle(message: Message): Promise<Reply | undefined>;
  nextId(): string;
  /** A message handed to the handler was answered `verdict` (undefined: 250); the reply is written. */
  settled(message: Message, verdict: Reply | undefined): void;
  /** A command was refused, or a TLS handshake failed. */
  refused(refusal: RefusalEvent): void;
  /** The connection has closed. */
  forget(connection: Connection): void;
  /** `--transcript`: a session id, and where each finished session goes; absent: nothing is recorded. */
  readonly transcripts?: TranscriptSink | undefined;
  /** A bug surfaced in a socket event: reported (with its stack), and the connection is dropped. */
  reportError(err: unknown): void;
}

/** Where a socket's shared event handlers find their connection. */
const OWNER = Symbol('connection');
type Owned = net.Socket & { [OWNER]?: Connection };
const ignore = (): void => {};

export class Connection {
  readonly channel: SMTPChannel;
  /** The transport: the accepted socket, then the TLS socket over it. */
  socket: net.Socket;
  /** A message is with the handler; the socket is paused. */
  private busy = false;
  private closing = false;
  private closed = false;
  private transactionTimer: NodeJS.Timeout | undefined;
  private idleTimeout = -1;
  /** The PROXY header being read; null once it has been read (or when none is expected). */
  private proxy: ProxyPreamble | null;
  /** Actions held back by a scripted delay, carried out when `delayTimer` fires; null when none. */
  private held: Action[] | null = null;
  private delayTimer: NodeJS.Timeout | undefined;
  /** What `-d` and `--transcript` get of this session. */
  private readonly log: SessionLog;
  /** Bytes received and not yet given to the channel: held while the client does not read our replies. */
  private inbox: Buffer | null = null;
  /** Bytes of the current transaction's message given to the channel (counted against the budget). */
  private bodyBytes = 0;
  /** Cancels the wait for the budget to have room; null when not waiting. */
  private unwait: (() => void) | null = null;
  /** The client half-closed: once what it sent is answered, we close too. */
  private peerEnded = false;
  /** A TLS handshake is under way (no reply can be sent on this socket until it ends). */
  private handshaking = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ConnectionHost,
    socket: net.Socket,
    /** The client: the socket's peer, or the PROXY header's source. */
    public peer: Endpoint,
    public local: Endpoint,
  ) {
    this.socket = socket;
    const policy = host.acceptRecipient;
    // `this.peer` is read at each RCPT: a PROXY header may change it after this.
    this.channel = new SMTPChannel(
      policy ? { ...host.channelConfig, acceptRecipient: (address) => policy(address, this.peer) } : host.channelConfig,
    );
    this.proxy = host.proxyProtocol(peer.address) ? new ProxyPreamble() : null;
    this.log = new SessionLog(host.traceStream, host.transcripts, () => this.peer);
    socket.on('error', ignore); // ECONNRESET and friends: 'close' follows
    socket.on('close', Connection.onSocketClose);
    this.listen(socket);
    this.log.event('connected');
    if (this.proxy) {
      socket.setTimeout(host.timeouts.command);
      this.idleTimeout = host.timeouts.command;
    } else {
      this.begin(Buffer.alloc(0));
    }
  }

  /**
   * Wraps a socket event handler: an exception there is a bug, reported with
   * its stack; the connection is dropped, and the process goes on.
   */
  private guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.host.reportError(err);
        this.socket.destroy();
      }
    };
  }

  /**
   * The socket events, shared by every connection (no closures per
   * connection: an idle one costs less): each finds its connection on the
   * socket and runs the method guarded.
   */
  private static shared(method: (this: Connection, arg?: Buffer) => void): (this: Owned, arg?: Buffer) => void {
    return function (this: Owned, arg?: Buffer) {
      this[OWNER]?.guarded(method, arg);
    };
  }
  private static readonly onSocketData = Connection.shared(Connection.prototype.onData);
  private static readonly onSocketEnd = Connection.shared(Connection.prototype.onEnd);
  private static readonly onSocketTimeout = Connection.shared(Connection.prototype.expire);
  private static readonly onSocketDrain = Connection.shared(Connection.prototype.pump);
  private static readonly onSocketClose = Connection.shared(Connection.prototype.onClose);

  /** Runs a socket event's handler as {@link guard} does. */
  private guarded(fn: (this: Connection, arg?: Buffer) => void, arg?: Buffer): void {
    try {
      fn.call(this, arg);
    } catch (err) {
      this.host.reportError(err);
      this.socket.destroy();
    }
  }

  private onData(chunk?: Buffer): void {
    if (chunk === undefined) return;
    if (this.proxy) return this.readProxyHeader(this.proxy, chunk);
    this.inbox = this.inbox === null ? chunk : Buffer.concat([this.inbox, chunk]);
    this.pump();
  }

  private onEnd(): void {
    this.peerEnded = true;
    this.pump();
  }

  /**
   * Feeds held input to the channel until it runs out, a message goes to the
   * handler, a scripted delay holds the actions, or the client stops reading
   * our replies (then the socket is paused until 'drain'). In DATA the input
   * goes in whole (it gets no reply until its end); in command state a slice
   * at a time, each of which can queue only so many replies.
   */
  private pump(): void {
    while (this.inbox !== null && !this.busy && !this.held && !this.closed) {
      if (this.socket.writableLength > WRITE_HIGH_WATER) {
        this.socket.pause();
        return;
      }
      const bytes = this.inbox;
      const state = this.channel.stateName;
      const body = state === 'data' || state === 'bdat';
      if (body && !this.host.budget.mayRead(this)) return this.waitForBudget();
      const n = body ? bytes.length : Math.min(bytes.length, COMMAND_SLICE);
      this.inbox = n < bytes.length ? bytes.subarray(n) : null;
      if (body) this.holdBody(n);
      this.apply(this.channel.receive(n < bytes.length ? bytes.subarray(0, n) : bytes));
    }
    if (this.busy || this.held || this.closed || this.unwait) return;
    if (this.peerEnded) return this.finishAfterHalfClose();
    if (this.socket.writableLength <= WRITE_HIGH_WATER && !this.socket.destroyed) this.socket.resume();
  }

  /** Counts `n` more bytes of the message against the server's budget (at most the size limit are kept). */
  private holdBody(n: number): void {
    const limit = this.host.channelConfig.dataSizeLimit;
    this.bodyBytes = limit > 0 ? Math.min(this.bodyBytes + n, limit) : this.bodyBytes + n;
    this.host.budget.set(this, this.bodyBytes);
  }

  /** The message's bytes are let go (it was handled, refused or abandoned). */
  private releaseBody(): void {
    this.bodyBytes = 0;
    this.host.budget.release(this);
  }

  /** Over the budget and not first in line: stop reading until bytes are let go. */
  private waitForBudget(): void {
    this.socket.pause();
    this.unwait ??= this.host.budget.wait(
      this.guard(() => {
        this.unwait = null;
        this.pump();
      }),
    );
    this.armTimers();
  }

  /** Everything the half-closed client sent has been answered: close our side too. */
  private finishAfterHalfClose(): void {
    if (this.channel.stateName !== 'closed') this.log.ended('client-closed');
    this.apply(this.channel.eof());
    this.closeSoon();
  }

  /**
   * Ends our side once the queued replies are written; destroys the socket if
   * that takes longer than CLOSE_LINGER_MS (a client that does not read).
   */
  private closeSoon(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    if (this.lingerTimer === undefined) this.lingerTimer = setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
  }

  private listen(socket: net.Socket): void {
    (socket as Owned)[OWNER] = this;
    socket.on('data', Connection.onSocketData);
    socket.on('end', Connection.onSocketEnd);
    socket.on('timeout', Connection.onSocketTimeout);
    socket.on('drain', Connection.onSocketDrain);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.transactionTimer);
    clearTimeout(this.delayTimer);
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.lingerTimer);
    this.unwait?.();
    this.unwait = null;
    this.releaseBody();
    this.inbox = null;
    this.channel.eof();
    this.log.finish(this.local);
    this.host.forget(this);
  }

  /** The session proper: TLS first with implicit TLS, else the greeting; `initial` are bytes already received. */
  private begin(initial: Buffer): void {
    if (this.host.tls?.implicit) return this.startTls(initial, true);
    this.apply(this.channel.greet());
    if (initial.length > 0) {
      this.inbox = initial;
      this.pump();
    }
  }

  private readProxyHeader(proxy: ProxyPreamble, chunk: Buffer): void {
    const read = proxy.push(chunk);
    if (read === null) return;
    this.proxy = null;
    const header = read.header;
    if (header.kind === 'invalid') {
      // Not a reply: the peer is a proxy that failed, or someone bypassing it.
      this.log.ended('error');
      this.log.event(`closed: ${header.reason}`);
      this.socket.destroy();
      return;
    }
    if (header.destination) this.local = header.destination;
    if (header.source) {
      this.peer = header.source;
      this.log.event(`PROXY: client ${header.source.address}:${header.source.port}`);
    }
    this.begin(read.rest);
  }

  /**
   * Wraps the socket in a server-side TLS socket. After STARTTLS nothing
   * received in the clear is carried over (the channel has dropped it); with
   * implicit TLS, `initial` (bytes after a PROXY header) starts the handshake.
   */
  private startTls(initial: Buffer, implicit: boolean): void {
    const raw = this.socket;
    raw.off('data', Connection.onSocketData);
    raw.off('end', Connection.onSocketEnd);
    raw.off('timeout', Connection.onSocketTimeout);
    raw.off('drain', Connection.onSocketDrain);
    raw.setTimeout(0);
    this.inbox = null;
    const secure = serverTlsSocket(raw, this.host.tls!.context, initial);
    this.socket = secure;
    this.idleTimeout = -1;
    // A client silent in the handshake gets no reply (there is no channel to
    // send one on): it is dropped after the command timeout.
    this.handshaking = true;
    const limit = this.host.timeouts.command;
    if (limit > 0) {
      this.handshakeTimer = setTimeout(
        this.guard(() => {
          this.log.ended('timeout');
          this.log.event('TLS handshake timeout');
          secure.destroy();
        }),
        limit,
      );
    }
    secure.on('error', (err) => {
      this.log.ended('error');
      const reason = tlsFailure(err);
      this.log.event(`TLS error: ${reason}`);
      if (this.handshaking) {
        this.host.refused({ peer: this.peer, command: implicit ? 'TLS' : 'STARTTLS', reply: null, reason });
      }
      secure.destroy();
    });
    secure.on(
      'close',
      this.guard(() => {
        raw.destroy();
        this.onClose();
      }),
    );
    secure.once(
      'secure',
      this.guard(() => {
        this.handshaking = false;
        clearTimeout(this.handshakeTimer);
        const info = { protocol: secure.getProtocol() ?? 'unknown', cipher: secure.getCipher()?.name ?? 'unknown' };
        this.log.tls(info);
        this.apply(this.channel.tlsEstablished(info));
        if (implicit) this.apply(this.channel.greet());
        if (this.closing) this.shutdown();
      }),
    );
    this.listen(secure);
    this.armTimers();
  }

  /** Carries out the channel's actions in order, then re-arms the timers for the new state. */
  apply(actions: Action[]): void {
    // Behind a scripted delay, everything waits its turn.
    if (this.held) {
      this.held.push(...actions);
      return;
    }
    let text = '';
    let lastCode = 0;
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      switch (action.kind) {
        case 'reply':
          text += formatReply(action.reply);
          lastCode = action.reply.code;
          break;
        case 'trace':
          this.log.client(action.line);
          break;
        case 'message':
          this.flush(text);
          text = '';
          this.deliver(action.message);
          break;
        case 'close':
          this.flush(text);
          text = '';
          this.log.ended(lastCode === 221 ? 'quit' : 'server-closed');
          this.closeSoon();
          break;
        case 'delay':
          this.flush(text);
          this.hold(actions.slice(i + 1), action.ms);
          return;
        case 'drop':
          this.flush(text);
          text = '';
          this.log.ended('drop');
          this.log.event('dropped by a rule');
          this.socket.destroy();
          break;
        case 'rule':
          this.log.rule(action.rule);
          break;
        case 'refused':
          this.host.refused({ peer: this.peer, command: action.command, reply: action.reply, reason: null });
          break;
        case 'starttls':
          // The 220 goes out in the clear, then the handshake starts.
          this.flush(text);
          text = '';
          this.startTls(Buffer.alloc(0), false);
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

  /** Holds `rest` back for `ms` (a scripted delay); the socket is paused meanwhile. */
  private hold(rest: Action[], ms: number): void {
    this.held = rest;
    this.socket.pause();
    this.armTimers();
    this.delayTimer = setTimeout(
      this.guard(() => {
        this.delayTimer = undefined;
        const actions = this.held ?? [];
        this.held = null;
        this.apply(actions);
        if (this.held || this.busy || this.socket.destroyed) return;
        if (this.closing) return this.shutdown();
        this.pump();
      }),
      ms,
    );
  }

  /** Ends the session now if idle, or after the transaction in flight. */
  shutdown(): void {
    this.closing = true;
    // Nothing can be said to a client in the middle of a handshake.
    if (this.handshaking) return void this.socket.destroy();
    if (this.busy || this.held) return;
    // A transaction in flight (after MAIL, in DATA, or with pipelined input
    // held) may finish within the grace period.
    if (this.channel.inTransaction || this.channel.heldBytes > 0 || this.inbox !== null) return;
    this.log.ended('shutdown');
    this.apply(this.channel.abort(R.R421_SHUTDOWN(this.host.channelConfig.hostname)));
  }

  /** Ends the session unconditionally (grace period over). */
  abort(): void {
    this.log.ended('shutdown');
    clearTimeout(this.delayTimer);
    this.held = null;
    this.inbox = null;
    if (this.handshaking) return void this.socket.destroy();
    this.apply(this.channel.abort(R.R421_SHUTDOWN(this.host.channelConfig.hostname)));
    // The grace period is over: a client that does not read its 421 is not waited for.
    this.socket.destroy();
  }

  private flush(text: string): void {
    if (text === '' || this.socket.destroyed) return;
    this.log.server(text);
    this.socket.write(text);
  }

  private deliver(data: ChannelMessage): void {
    this.busy = true;
    this.socket.pause();
    this.handOver(data).catch((err: unknown) => {
      this.host.reportError(err);
      this.socket.destroy();
    });
  }

  private async handOver(data: ChannelMessage): Promise<void> {
    const id = this.host.nextId();
    const dialogue = this.log.message(id, data.data.length);
    const message: Message = {
      ...data,
      id,
      receivedAt: new Date(),
      peer: this.peer,
      local: this.local,
      ...(dialogue ? { dialogue } : {}),
    };
    // The 250 goes out only after the handler has finished with the message
    // (printed and flushed it), so a 250 always means "written".
    const verdict = await this.host.handle(message);
    this.busy = false;
    this.apply(this.channel.settle(verdict));
    this.host.settled(message, verdict);
    if (this.closing && !this.peerEnded) return this.shutdown();
    this.pump();
  }

  /** Inactivity timeout for the current state; the transaction bound from MAIL on. */
  private armTimers(): void {
    const t = this.host.timeouts;
    // While the handler has the message, the client is waiting on us.
    const state = this.channel.stateName;
    // Nor is a client we stopped reading from for the budget.
    const idle = this.busy || this.held || this.unwait ? 0 : state === 'data' || state === 'bdat' ? t.data : t.command;
    if (idle !== this.idleTimeout) {
      this.socket.setTimeout(idle);
      this.idleTimeout = idle;
    }
    // A closed channel has no transaction left to time (inTransaction is
    // false): a timer armed after the peer hung up would hold the
    // connection, and the process at exit, for the whole transaction timeout.
    const inTransaction = this.channel.inTransaction && !this.busy;
    if (this.bodyBytes > 0 && !this.channel.inTransaction && !this.busy) this.releaseBody();
    if (inTransaction && this.transactionTimer === undefined && t.transaction > 0) {
      this.transactionTimer = setTimeout(
        this.guard(() => this.expire()),
        t.transaction,
      );
    } else if (!inTransaction && this.transactionTimer !== undefined) {
      clearTimeout(this.transactionTimer);
      this.transactionTimer = undefined;
    }
  }

  private expire(): void {
    this.log.ended('timeout');
    this.log.event('timeout');
    this.inbox = null;
    this.apply(this.channel.abort(R.R421_TIMEOUT(this.host.channelConfig.hostname)));
    this.closeSoon();
  }
}

/** What a failed handshake comes to, in OpenSSL's words without its file names, and what it usually means. */
function tlsFailure(err: Error & { reason?: string }): string {
  const reason = err.reason ?? err.message.trim();
  if (/unknown ca|bad certificate|certificate unknown/.test(reason)) {
    return `${reason}: the client does not trust the certificate (with --tls it is self-signed: give the client it or turn off its verification)`;
  }
  return reason;
}
