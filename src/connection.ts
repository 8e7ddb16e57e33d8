/**
 * One client connection: adapts a socket to its sans-I/O channel. It writes
 * the replies, pauses the socket while a message is with the handler (so a
 * pipelining client cannot make us buffer without bound), and enforces the
 * RFC 5321 4.5.3.2 timeouts. It also owns the transport: the PROXY protocol
 * header before anything else, TLS from the first byte (RFC 8314) or after
 * the channel's `starttls` action (RFC 3207). No SMTP rule lives here.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPChannel } from './channel/channel.js';
import { R, formatReply, type Reply } from './channel/reply.js';
import type { Action, ChannelConfig, ChannelMessage } from './channel/types.js';
import type { Endpoint, Message } from './message.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { serverTlsSocket } from './tls.js';
import { Transcript, type FinishedSession, type SessionEnd } from './transcript/transcript.js';

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

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly channelConfig: ChannelConfig;
  readonly timeouts: Timeouts;
  readonly traceStream: NodeJS.WritableStream | undefined;
  /** TLS, when configured: for STARTTLS, or from the first byte with `implicit` (RFC 8314). */
  readonly tls: { readonly context: tls.SecureContext; readonly implicit: boolean } | undefined;
  /** A PROXY protocol v1/v2 header precedes each connection's bytes. */
  readonly proxyProtocol: boolean;
  /** The RCPT policy, asked with the client's address (src/relay/policy.ts). */
  readonly acceptRecipient?: RecipientPolicy | undefined;
  /** Runs the handler; resolves with the verdict (undefined for 250), never rejects. */
  handle(message: Message): Promise<Reply | undefined>;
  nextId(): string;
  /** A message was answered 2xx. */
  accepted(message: Message): void;
  /** The connection has closed. */
  forget(connection: Connection): void;
  /** `--transcript`: a session id, and where each finished session goes; absent: nothing is recorded. */
  readonly transcripts?: { nextId(): string; finished(session: FinishedSession): void } | undefined;
}


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
  /** Bytes of a PROXY header received so far; null once it has been read (or when none is expected). */
  private proxyBytes: Buffer | null;
  /** Actions held back by a scripted delay, carried out when `delayTimer` fires; null when none. */
  private held: Action[] | null = null;
  private delayTimer: NodeJS.Timeout | undefined;
  /** `--transcript`: the session's dialogue; null when not recorded. */
  private readonly transcript: Transcript | null;

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
    this.channel = new SMTPChannel(policy ? { ...host.channelConfig, acceptRecipient: (address) => policy(address, this.peer) } : host.channelConfig);
    this.proxyBytes = host.proxyProtocol ? Buffer.alloc(0) : null;
    this.transcript = host.transcripts ? new Transcript(host.transcripts.nextId()) : null;
    socket.on('error', () => {}); // ECONNRESET and friends: 'close' follows
    socket.on('close', () => this.onClose());
    this.listen(socket);
    this.trace('connected');
    if (this.proxyBytes) {
      socket.setTimeout(host.timeouts.command);
      this.idleTimeout = host.timeouts.command;
    } else {
      this.begin(Buffer.alloc(0));
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.proxyBytes) return this.readProxyHeader(chunk);
    this.apply(this.channel.receive(chunk));
  };
  private readonly onEnd = (): void => {
    this.transcript?.ended('client-closed');
    this.apply(this.channel.eof());
  };
  private readonly onTimeout = (): void => this.expire();

  private listen(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.transactionTimer);
    clearTimeout(this.delayTimer);
    this.channel.eof();
    if (this.transcript) {
      this.transcript.ended('client-closed');
      this.host.transcripts?.finished({ record: this.transcript.toRecord(this.peer, this.local), unprinted: this.transcript.takeUnprinted() });
    }
    this.host.forget(this);
  }

  /** The session proper: TLS first with implicit TLS, else the greeting; `initial` are bytes already received. */
  private begin(initial: Buffer): void {
    if (this.host.tls?.implicit) return this.startTls(initial, true);
    this.apply(this.channel.greet());
    if (initial.length > 0) this.apply(this.channel.receive(initial));
  }

  private readProxyHeader(chunk: Buffer): void {
    const bytes = Buffer.concat([this.proxyBytes!, chunk]);
    const header = parseProxyHeader(bytes);
    if (header.kind === 'incomplete') {
      this.proxyBytes = bytes;
      return;
    }
    this.proxyBytes = null;
    if (header.kind === 'invalid') {
      // Not a reply: the peer is a proxy that failed, or someone bypassing it.
      this.transcript?.ended('error');
      this.trace(`closed: ${header.reason}`);
      this.socket.destroy();
      return;
    }
    if (header.destination) this.local = header.destination;
    if (header.source) {
      this.peer = header.source;
      this.trace(`PROXY: client ${header.source.address}:${header.source.port}`);
    }
    this.begin(bytes.subarray(header.length));
  }

  /**
   * Wraps the socket in a server-side TLS socket. After STARTTLS nothing
   * received in the clear is carried over (the channel has dropped it); with
   * implicit TLS, `initial` (bytes after a PROXY header) starts the handshake.
   */
  private startTls(initial: Buffer, implicit: boolean): void {
    const raw = this.socket;
    raw.off('data', this.onData);
    raw.off('end', this.onEnd);
    raw.off('timeout', this.onTimeout);
    raw.setTimeout(0);
    const secure = serverTlsSocket(raw, this.host.tls!.context, initial);
    this.socket = secure;
    this.idleTimeout = -1;
    secure.on('error', (err) => {
      this.transcript?.ended('error');
      this.trace(`TLS error: ${err.message}`);
      secure.destroy();
    });
    secure.on('close', () => {
      raw.destroy();
      this.onClose();
    });
    secure.once('secure', () => {
      const info = { protocol: secure.getProtocol() ?? 'unknown', cipher: secure.getCipher()?.name ?? 'unknown' };
      this.trace(`TLS established: ${info.protocol} ${info.cipher}`);
      if (this.transcript) this.transcript.tls = info;
      this.apply(this.channel.tlsEstablished(info));
      if (implicit) this.apply(this.channel.greet());
    });
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
          this.transcript?.add('client', action.line);
          this.host.traceStream?.write(`${this.peer.address}:${this.peer.port} <<< ${action.line}\n`);
          break;
        case 'message':
          this.flush(text);
          text = '';
          void this.deliver(action.message);
          break;
        case 'close':
          this.flush(text);
          text = '';
          this.transcript?.ended(lastCode === 221 ? 'quit' : 'server-closed');
          this.socket.end();
          break;
        case 'delay':
          this.flush(text);
          this.hold(actions.slice(i + 1), action.ms);
          return;
        case 'drop':
          this.flush(text);
          text = '';
          this.transcript?.ended('drop');
          this.trace('dropped by a rule');
          this.socket.destroy();
          break;
        case 'rule':
          this.transcript?.rules.push(action.rule);
          this.trace(`rule fired: ${action.rule}`);
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
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      const actions = this.held ?? [];
      this.held = null;
      this.apply(actions);
      if (this.held || this.busy || this.socket.destroyed) return;
      if (this.closing) return this.shutdown();
      this.socket.resume();
    }, ms);
  }

  /** Ends the session now if idle, or after the transaction in flight. */
  shutdown(): void {
    this.closing = true;
    if (this.busy || this.held) return;
    // A transaction in flight (after MAIL, in DATA, or with pipelined input
    // held) may finish within the grace period.
    if (this.channel.inTransaction || this.channel.heldBytes > 0) return;
    this.transcript?.ended('shutdown');
    this.apply(this.channel.abort(R.R421_SHUTDOWN(this.host.channelConfig.hostname)));
  }

  /** Ends the session unconditionally (grace period over). */
  abort(): void {
    this.transcript?.ended('shutdown');
    clearTimeout(this.delayTimer);
    this.held = null;
    this.apply(this.channel.abort(R.R421_SHUTDOWN(this.host.channelConfig.hostname)));
    this.socket.destroySoon();
  }

  private flush(text: string): void {
    if (text === '' || this.socket.destroyed) return;
    if (this.host.traceStream || this.transcript) {
      for (const line of text.slice(0, -2).split('\r\n')) {
        this.transcript?.add('server', line);
        this.host.traceStream?.write(`${this.peer.address}:${this.peer.port} >>> ${line}\n`);
      }
    }
    this.socket.write(text);
  }

  private async deliver(data: ChannelMessage): Promise<void> {
    this.busy = true;
    this.socket.pause();
    const id = this.host.nextId();
    this.host.traceStream?.write(`${this.peer.address}:${this.peer.port} <<< [message ${id}: ${data.data.length} bytes]\n`);
    this.transcript?.add('event', `message ${id}: ${data.data.length} bytes`);
    this.transcript?.messages.push(id);
    const dialogue = this.transcript?.takeUnprinted();
    const message: Message = { ...data, id, receivedAt: new Date(), peer: this.peer, local: this.local, ...(dialogue ? { dialogue } : {}) };
    // The 250 goes out only after the handler has finished with the message
    // (printed and flushed it), so a 250 always means "written".
    const verdict = await this.host.handle(message);
    this.busy = false;
    this.apply(this.channel.settle(verdict));
    if (verdict === undefined || verdict.code < 400) this.host.accepted(message);
    if (this.closing) return this.shutdown();
    if (!this.socket.destroyed && !this.held) this.socket.resume();
  }

  /** Inactivity timeout for the current state; the transaction bound from MAIL on. */
  private armTimers(): void {
    const t = this.host.timeouts;
    // While the handler has the message, the client is waiting on us.
    const state = this.channel.stateName;
    const idle = this.busy || this.held ? 0 : state === 'data' || state === 'bdat' ? t.data : t.command;
    if (idle !== this.idleTimeout) {
      this.socket.setTimeout(idle);
      this.idleTimeout = idle;
    }
    // A closed channel has no transaction left to time (inTransaction is
    // false): a timer armed after the peer hung up would hold the
    // connection, and the process at exit, for the whole transaction timeout.
    const inTransaction = this.channel.inTransaction && !this.busy;
    if (inTransaction && this.transactionTimer === undefined && t.transaction > 0) {
      this.transactionTimer = setTimeout(() => this.expire(), t.transaction);
    } else if (!inTransaction && this.transactionTimer !== undefined) {
      clearTimeout(this.transactionTimer);
      this.transactionTimer = undefined;
    }
  }

  private expire(): void {
    this.transcript?.ended('timeout');
    this.trace('timeout');
    this.apply(this.channel.abort(R.R421_TIMEOUT(this.host.channelConfig.hostname)));
    this.socket.destroySoon();
  }

  /** An event, for the `-d` trace and the transcript. */
  private trace(text: string): void {
    this.transcript?.add('event', text);
    this.host.traceStream?.write(`${this.peer.address}:${this.peer.port} ${text}\n`);
  }
}
