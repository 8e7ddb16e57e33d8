/**
 * The SMTP channel: a sans-I/O state machine for one connection.
 *
 * Theory of operation. The I/O layer feeds received bytes to `receive()` and
 * carries out the actions it returns, in order: send a reply, hand a
 * completed message to the handler, close. The channel is in one of four
 * states:
 *
 *   command           lines are read and dispatched through the verb table
 *      | DATA (354)
 *   data              bytes go to the data decoder until CRLF.CRLF
 *      | end of data  (over the size limit: 552, back to command)
 *   awaiting-verdict  a `message` action was returned; nothing is processed,
 *      |              bytes received meanwhile are held, until `settle()`
 *      | settle(reply) sends the verdict (250 OK by default)
 *   command ...
 *   closed            after QUIT, `abort()` or `eof()`; input is ignored
 *
 * It never touches a socket, a clock, the console or a promise, so every
 * rule is testable with byte scripts and any split of them into chunks.
 * Whatever a peer sends gives replies, never an exception; misusing this API
 * (settling with no message pending) throws ChannelUsageError.
 */
import { isUtf8 } from 'node:buffer';
import { emptyTransaction, lookupVerb, type CommandContext, type Session, type Transaction } from './commands.js';
import { countBareLineEndings, DataDecoder } from './data-decoder.js';
import { LineReader, type LineResult } from './line-reader.js';
import { pyStrip } from './py-text.js';
import { R, reply, type Reply } from './reply.js';
import {
  COMMAND_SIZE_LIMIT,
  MAIL_SIZE_EXTENSION,
  MAIL_SMTPUTF8_EXTENSION,
  type Action,
  type ChannelConfig,
  type ChannelMessage,
  type ChannelStateName,
} from './types.js';

/** Thrown when the channel's API is used out of order: a bug in the caller, not the peer. */
export class ChannelUsageError extends Error {
  readonly code = 'ERR_SMTP_CHANNEL_USAGE';
}

type State =
  | { readonly name: 'command' }
  | { readonly name: 'data'; readonly decoder: DataDecoder }
  | { readonly name: 'awaiting-verdict' }
  | { readonly name: 'closed' };

const COMMAND: State = { name: 'command' };
const AWAITING: State = { name: 'awaiting-verdict' };
const CLOSED: State = { name: 'closed' };

export class SMTPChannel implements CommandContext {
  readonly session: Session = { greeting: '', extended: false };
  private tx: Transaction = emptyTransaction();
  private state: State = COMMAND;
  private readonly lines: LineReader;
  /** MAIL's line limit after EHLO (smtpd's `command_size_limits['MAIL']`). */
  private readonly mailLineLimit: number;
  private out: Action[] = [];
  /** Messages accepted on this connection (for `maxMessages`). */
  private accepted = 0;

  constructor(readonly config: ChannelConfig) {
    this.mailLineLimit =
      COMMAND_SIZE_LIMIT +
      (config.dataSizeLimit ? MAIL_SIZE_EXTENSION : 0) +
      (config.enableSMTPUTF8 ? MAIL_SMTPUTF8_EXTENSION : 0);
    this.lines = new LineReader(Math.max(COMMAND_SIZE_LIMIT, this.mailLineLimit));
  }

  /** The 220 greeting, to send when the connection opens. */
  greet(): Action[] {
    return [{ kind: 'reply', reply: reply(220, `${this.config.hostname} ${this.config.banner}`) }];
  }

  /** Feeds bytes received from the peer; returns what to do. */
  receive(chunk: Uint8Array): Action[] {
    if (this.state === CLOSED || chunk.length === 0) return [];
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.state.name === 'data') {
      const result = this.state.decoder.feed(bytes);
      if (!result.done) return [];
      this.out = [];
      this.endData();
      this.lines.push(result.rest);
    } else {
      this.out = [];
      this.lines.push(bytes);
    }
    this.run();
    return this.out;
  }

  /**
   * Gives the handler's verdict on the pending message: a reply, or
   * undefined for `250 OK`. Processing of held input resumes.
   */
  settle(verdict?: Reply): Action[] {
    // The peer may hang up while its message is with the handler.
    if (this.state === CLOSED) return [];
    if (this.state !== AWAITING) throw new ChannelUsageError(`settle() called in state ${this.state.name}`);
    this.out = [];
    this.state = COMMAND;
    this.tx = emptyTransaction();
    if (verdict === undefined || verdict.code < 400) this.accepted++;
    this.send(verdict ?? R.R250_OK);
    this.run();
    return this.out;
  }

  /** The peer closed its side. A message still in DATA is incomplete and dropped: it got no 250. */
  eof(): Action[] {
    this.state = CLOSED;
    return [];
  }

  /** Ends the session with a reply (421 on timeout or shutdown) and a close. */
  abort(final: Reply): Action[] {
    if (this.state === CLOSED) return [];
    this.state = CLOSED;
    return [{ kind: 'reply', reply: final }, { kind: 'close' }];
  }

  /** smtpd's `smtp_state`, plus the states it had no name for. */
  get stateName(): ChannelStateName {
    return this.state.name;
  }
  /** The HELO/EHLO argument, '' before one (smtpd's `seen_greeting`). */
  get seenGreeting(): string {
    return this.session.greeting;
  }
  /** The current MAIL FROM address, null outside a transaction (smtpd's `mailfrom`). */
  get mailFrom(): string | null {
    return this.tx.mailFrom;
  }
  /** Recipients accepted so far in this transaction (smtpd's `rcpttos`). */
  get rcptTos(): readonly string[] {
    return this.tx.rcptTos;
  }
  /** Bytes received and held, not yet processed (pipelined input while awaiting a verdict). */
  get heldBytes(): number {
    return this.lines.pending;
  }

  // CommandContext, for the verb table.
  get transaction(): Transaction {
    return this.tx;
  }
  get messagesAccepted(): number {
    return this.accepted;
  }
  send(r: Reply): void {
    this.out.push({ kind: 'reply', reply: r });
  }
  resetTransaction(): void {
    this.tx = emptyTransaction();
  }
  startData(): void {
    this.state = { name: 'data', decoder: new DataDecoder(this.config.dataSizeLimit) };
  }
  close(): void {
    this.state = CLOSED;
    this.out.push({ kind: 'close' });
  }

  /** Processes held lines until input runs out or the state stops taking commands. */
  private run(): void {
    while (this.state === COMMAND) {
      const line = this.lines.next();
      if (!line) return;
      this.dispatch(line);
      if (this.state.name === 'data') {
        const result = this.state.decoder.feed(this.lines.take());
        if (!result.done) return;
        this.endData();
        this.lines.unshift(result.rest);
      }
    }
  }

  private endData(): void {
    if (this.state.name !== 'data') return;
    const decoder = this.state.decoder;
    if (decoder.tooBig) {
      // smtpd stayed in DATA after this 552, reading the next commands as
      // mail; RFC 5321 4.2.5 has the transaction end here.
      this.state = COMMAND;
      this.tx = emptyTransaction();
      this.send(R.R552_TOO_MUCH_DATA);
      return;
    }
    const data = decoder.message();
    const bareLineEndings = countBareLineEndings(data);
    if (this.config.bareLineEndings === 'reject' && bareLineEndings.cr + bareLineEndings.lf > 0) {
      this.state = COMMAND;
      this.tx = emptyTransaction();
      this.send(R.R550_BARE_LINE_ENDING);
      return;
    }
    const tx = this.tx;
    const message: ChannelMessage = {
      helo: this.session.greeting,
      extended: this.session.extended,
      mailFrom: tx.mailFrom ?? '',
      rcptTos: tx.rcptTos,
      mailOptions: tx.mailOptions,
      rcptOptions: tx.rcptOptions,
      data,
      bareLineEndings,
    };
    this.state = AWAITING;
    this.out.push({ kind: 'message', message });
  }

  /** smtpd's `found_terminator` for a command line, check for check. */
  private dispatch(line: LineResult): void {
    if (line.kind === 'too-long') return this.send(R.R500_LINE_TOO_LONG);
    const bytes = line.bytes;
    if (this.config.trace) this.out.push({ kind: 'trace', line: bytes.toString('latin1') });
    if (bytes.length === 0) return this.send(R.R500_BAD_SYNTAX);
    if (!isUtf8(bytes)) return this.send(R.R500_NOT_UTF8);
    const text = bytes.toString('utf8');
    const space = text.indexOf(' ');
    const verb = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const arg = space < 0 ? null : pyStrip(text.slice(space + 1));
    const limit = this.session.extended && verb === 'MAIL' ? this.mailLineLimit : COMMAND_SIZE_LIMIT;
    if (bytes.length > limit) return this.send(R.R500_LINE_TOO_LONG);
    const spec = lookupVerb(verb);
    if (!spec) return this.send(R.R500_UNRECOGNIZED(verb));
    spec.run(this, arg);
  }
}

