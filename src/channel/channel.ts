/**
 * The SMTP channel: a sans-I/O state machine for one connection.
 *
 * Theory of operation. The I/O layer feeds received bytes to `receive()` and
 * carries out the actions it returns, in order: send a reply, hand a
 * completed message to the handler, start TLS, close. The channel is in one
 * of these states:
 *
 *   command           lines are read and dispatched through the verb table
 *      | DATA (354)          | BDAT n [LAST]        | AUTH (334)      | STARTTLS (220)
 *   data              bdat                   auth              starttls
 *      | CRLF.CRLF           | n bytes read         | next line       | tlsEstablished()
 *      |                     | (250, or the message | (235/535/334)   | new session, and the
 *      |                     |  after LAST)         |                 | bytes pipelined after
 *      |                     |                      |                 | STARTTLS were dropped
 *   awaiting-verdict  a `message` action was returned; nothing is processed,
 *      |              bytes received meanwhile are held, until `settle()`
 *      | settle(reply) sends the verdict (250 OK by default; LMTP: one per recipient)
 *   command ...
 *   closed            after QUIT, `abort()` or `eof()`; input is ignored
 *
 * Scripted replies (`replyRule`, src/rules/) are asked at the greeting,
 * before each command runs and at the end of the data: an outcome replaces
 * the reply, or comes before it as a `delay` action, or ends the session
 * with a `drop` action; the I/O layer keeps the time.
 *
 * The states are in channel-state.ts; a command line is read in
 * command-line.ts; a message's end and its verdict are in end-of-message.ts.
 *
 * It never touches a socket, a clock, the console or a promise, so every
 * rule is testable with byte scripts and any split of them into chunks.
 * Whatever a peer sends gives replies, never an exception; misusing this API
 * (settling with no message pending) throws ChannelUsageError.
 */
import { continueAuth, HIDDEN_AFTER_REFUSED_AUTH, traceable, type AuthStep } from './auth.js';
import { CLOSED, COMMAND, STARTTLS, type State } from './channel-state.js';
import { mailLineLimit, readCommandLine } from './command-line.js';
import { emptySession, emptyTransaction, type CommandContext, type Session, type Transaction } from './commands.js';
import type { ChunkReader } from './bdat.js';
import { DataDecoder } from './data-decoder.js';
import { answerVerdict, bodyEnding, type MessageEnding } from './end-of-message.js';
import { withEnhancedCode } from './enhanced-codes.js';
import { LineReader, type LineResult } from './line-reader.js';
import { printable, R, type Reply } from './reply.js';
import { announce, belongsToTransaction, commandSubject } from './rule-hook.js';
import {
  COMMAND_SIZE_LIMIT,
  resolveChannelConfig,
  type ChannelConfig,
  type ChannelOptions,
  type RuleOutcome,
} from './config.js';
import { type Action, type ChannelStateName, type TlsInfo } from './actions.js';
import { ChannelUsageError } from '../errors.js';

export class SMTPChannel {
  /**
   * The class of `ctx`: its methods live on one prototype, so a channel
   * costs one small object for them, not an object literal of getters and
   * closures per channel (3.4 KiB each, most of an idle connection).
   * Declared inside SMTPChannel, it may use the channel's private members.
   */
  private static readonly Context = class implements CommandContext {
    constructor(private readonly ch: SMTPChannel) {}
    get config() {
      return this.ch.config;
    }
    get session() {
      return this.ch.session;
    }
    get transaction() {
      return this.ch.tx;
    }
    get messagesAccepted() {
      return this.ch.accepted;
    }
    send(r: Reply): void {
      this.ch.send(r);
    }
    resetTransaction(): void {
      this.ch.tx = emptyTransaction();
    }
    startData(): void {
      this.ch.state = { name: 'data', decoder: new DataDecoder(this.ch.config.dataSizeLimit) };
    }
    startAuth(step: AuthStep): void {
      this.ch.state = { name: 'auth', step };
    }
    startChunk(reader: ChunkReader): void {
      this.ch.state = { name: 'bdat', reader };
    }
    startTls(): void {
      this.ch.state = STARTTLS;
      // What was pipelined after STARTTLS is dropped (CVE-2011-0411).
      this.ch.lines.take();
      this.ch.out.push({ kind: 'starttls' });
    }
    close(): void {
      this.ch.close();
    }
  };

  private session: Session = emptySession();
  private tx: Transaction = emptyTransaction();
  private state: State = COMMAND;
  private readonly lines: LineReader;
  /** MAIL's line limit after EHLO (smtpd's `command_size_limits['MAIL']`). */
  private readonly mailLineLimit: number;
  private out: Action[] = [];
  /** Messages accepted on this connection (for `maxMessagesPerConnection`). */
  private accepted = 0;
  private greeted = false;
  /**
   * The last command was an AUTH that started no exchange (503, 538, 504...):
   * a client that does not read replies sends its credentials next, as
   * lines that are no command. Those are hidden from the trace.
   */
  private authRefused = false;
  /**
   * What the replies being sent answer (a verb, `DATA` or `BDAT` at the end
   * of the data), for `refused` actions; null for replies that are not
   * reported: scripted ones, the handler's verdict.
   */
  private answering: string | null = null;

  /** Every setting, decided: the options given, the rest from SMTP_DEFAULTS. */
  readonly config: ChannelConfig;

  constructor(options: ChannelOptions) {
    const config = resolveChannelConfig(options);
    this.config = config;
    this.mailLineLimit = mailLineLimit(config);
    this.lines = new LineReader(Math.max(COMMAND_SIZE_LIMIT, this.mailLineLimit));
  }

  /** The 220 greeting, to send when the connection opens. */
  greet(): Action[] {
    this.greeted = true;
    this.out = [];
    const outcome = this.config.replyRule?.({ verb: 'CONNECT', subject: '' });
    if (outcome && this.takeOutcome(outcome)) return this.out;
    this.send(R.R220_GREETING(this.config.hostname, this.config.banner));
    return this.out;
  }

  /**
   * The TLS handshake is done: after the `starttls` action, or before
   * `greet()` for implicit TLS (RFC 8314). The session starts over (RFC 3207
   * section 4.2: forget the greeting, the transaction and any AUTH).
   */
  tlsEstablished(info: TlsInfo): Action[] {
    if (this.state === CLOSED) return [];
    if (this.state !== STARTTLS && this.greeted)
      throw new ChannelUsageError(`tlsEstablished() called in state ${this.state.name}`);
    this.session = emptySession(info);
    this.tx = emptyTransaction();
    this.state = COMMAND;
    return [];
  }

  /** Feeds bytes received from the peer; returns what to do. */
  receive(chunk: Uint8Array): Action[] {
    // In starttls, anything before the handshake is discarded: the client
    // must wait for the 220 (RFC 3207 section 4.2), and honouring bytes sent
    // in the clear would let a man in the middle inject commands (CVE-2011-0411).
    if (this.state === CLOSED || this.state === STARTTLS || chunk.length === 0) return [];
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.out = [];
    if (this.state.name === 'data' || this.state.name === 'bdat') {
      if (!this.feedBody(bytes)) return this.out;
    } else {
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
    if (this.state.name !== 'awaiting-verdict')
      throw new ChannelUsageError(`settle() called in state ${this.state.name}`);
    this.out = [];
    this.answering = null;
    // The transaction is as it was handed over: nothing is processed meanwhile.
    const { accepted, ending } = answerVerdict(this.config, this.tx.rcptTos.length, verdict, this.state.verdictRule);
    if (accepted) this.accepted++;
    this.endMessage(ending);
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
    return [{ kind: 'reply', reply: this.enhance(final) }, { kind: 'close' }];
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
  /** A transaction is open (MAIL accepted, its message not yet ended) on a live connection. */
  get inTransaction(): boolean {
    return this.state.name !== 'closed' && this.tx.mailFrom !== null;
  }

  /** The TLS session (STARTTLS or implicit), null in the clear. */
  get tls(): TlsInfo | null {
    return this.session.tls;
  }

  /**
   * What the verb table (commands.ts, auth.ts, bdat.ts) may see and do.
   * Private, so that the published API cannot move the state machine: a
   * command's state changes happen through here and nowhere else.
   */
  private readonly ctx: CommandContext = new SMTPChannel.Context(this);

  private send(r: Reply): void {
    const reply = this.enhance(r);
    this.out.push({ kind: 'reply', reply });
    if (reply.code >= 400 && this.answering !== null)
      this.out.push({ kind: 'refused', command: this.answering, reply });
  }

  private close(): void {
    this.state = CLOSED;
    this.out.push({ kind: 'close' });
  }

  /** A scripted fault: the connection goes, with nothing more sent. */
  private drop(): void {
    this.state = CLOSED;
    this.out.push({ kind: 'drop' });
  }

  /**
   * Announces a rule's outcome and carries it out (a drop, or its reply and a close); false
   * when the normal processing goes on (a delay alone, or DATA's drop, which waits for the data).
   */
  private takeOutcome(outcome: RuleOutcome, verb = 'CONNECT'): boolean {
    this.out.push(...announce(outcome));
    if (belongsToTransaction(verb, this.tx.mailFrom !== null)) this.tx.rules.push(...outcome.rules);
    if (outcome.drop) {
      if (verb === 'DATA') return false; // DATA runs, and the drop waits for its data (see dispatch)
      this.drop();
      return true;
    }
    if (!outcome.reply) return false;
    this.answering = null;
    this.send(outcome.reply);
    if (outcome.close) this.close();
    return true;
  }

  private enhance(r: Reply): Reply {
    return this.config.enhancedStatusCodes ? withEnhancedCode(r) : r;
  }

  /** Processes held lines until input runs out or the state stops taking lines. */
  private run(): void {
    while (this.state === COMMAND || this.state.name === 'auth') {
      const line = this.lines.next();
      if (!line) return;
      if (this.state.name === 'auth') this.answerChallenge(this.state.step, line);
      else this.dispatch(line);
      if ((this.state.name === 'data' || this.state.name === 'bdat') && !this.feedBody(this.lines.take())) return;
    }
  }

  /** Feeds DATA or BDAT bytes; true once the phase has ended, with the bytes after it back in the line reader. */
  private feedBody(bytes: Buffer): boolean {
    if (this.state.name !== 'data' && this.state.name !== 'bdat') return true;
    if (this.state.name === 'data' && this.state.dropAtData && bytes.length > 0) {
      this.drop();
      return false;
    }
    const phase = this.state.name === 'data' ? 'DATA' : 'BDAT';
    const fed = bodyEnding(this.state, bytes, this.config, this.session, this.tx);
    if (fed === undefined) return false;
    // A reply an EOD rule scripted is not a refusal to report.
    const end = fed.ending.end;
    this.answering = end.kind === 'replies' && end.scripted === true ? null : phase;
    this.endMessage(fed.ending);
    this.lines.unshift(fed.rest);
    return true;
  }

  /** A continuation line of AUTH; it is never traced, since it carries the password. */
  private answerChallenge(step: AuthStep, line: LineResult): void {
    this.state = COMMAND;
    this.answering = 'AUTH';
    if (this.config.trace) this.out.push({ kind: 'trace', line: '[AUTH response hidden]' });
    if (line.kind === 'too-long') return this.send(R.R500_LINE_TOO_LONG);
    continueAuth(this.ctx, step, line.bytes.toString('latin1'));
  }

  /**
   * Carries out the end of a message (see end-of-message.ts): replies (a
   * refusal, a BDAT chunk's reply or the verdict), a drop, or the hand-over.
   */
  private endMessage({ before, end }: MessageEnding): void {
    this.out.push(...before);
    switch (end.kind) {
      case 'replies':
        this.state = COMMAND;
        if (end.endsTransaction) this.tx = emptyTransaction();
        for (const r of end.replies) this.send(r);
        if (end.close) this.close();
        return;
      case 'drop':
        return this.drop();
      case 'hand-over':
        this.state = { name: 'awaiting-verdict', verdictRule: end.verdictRule };
        this.out.push({ kind: 'message', message: end.message });
        return;
      default: {
        const never: never = end;
        throw new Error(`unreachable message end ${JSON.stringify(never)}`);
      }
    }
  }

  /** A command line (see command-line.ts): asks the rules, then runs the verb. */
  private dispatch(line: LineResult): void {
    if (line.kind === 'too-long') {
      this.answering = '(line too long)';
      return this.send(R.R500_LINE_TOO_LONG);
    }
    const command = readCommandLine(line.bytes, this.config, this.session, this.mailLineLimit);
    this.answering = command.kind === 'command' ? command.verb : commandWord(line.bytes);
    if (this.config.trace) {
      const hidden = this.authRefused && command.kind === 'refused';
      this.out.push({
        kind: 'trace',
        line: hidden ? HIDDEN_AFTER_REFUSED_AUTH : traceable(line.bytes.toString('latin1')),
      });
    }
    if (command.kind === 'refused') {
      if (!this.authRefused) return this.send(command.reply);
      // It may be a credential: neither the reply nor the refusal repeats it.
      this.answering = '(hidden)';
      return this.send(command.reply.code === 500 ? R.R500_UNRECOGNIZED_HIDDEN : command.reply);
    }
    this.authRefused = false;
    const outcome = this.config.replyRule?.({ verb: command.verb, subject: commandSubject(command.verb, command.arg) });
    if (outcome && this.takeOutcome(outcome, command.verb)) return;
    const authUser = this.session.authUser;
    command.spec.run(this.ctx, command.arg);
    // Refused: no exchange started, and no initial response succeeded.
    if (command.verb === 'AUTH') this.authRefused = this.state.name !== 'auth' && this.session.authUser === authUser;
    // A DATA rule's drop comes at the first data bytes, after the 354; when
    // DATA was refused (503, 501...) there will be no data to drop in.
    if (outcome?.drop) {
      if (this.state.name === 'data') this.state = { ...this.state, dropAtData: true };
      else this.drop();
    }
  }
}

/** The first word of a line that is no command, as a refusal names it: printable, at most 16 characters. */
function commandWord(bytes: Buffer): string {
  const text = bytes.subarray(0, 64).toString('latin1');
  const word = text.split(/[ \t]/)[0]!.toUpperCase();
  if (word === '') return '(empty line)';
  return printable(word.length > 16 ? `${word.slice(0, 16)}...` : word);
}
