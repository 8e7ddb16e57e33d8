/**
 * The session log of one connection: what `-d` traces on stderr and what
 * `--transcript` records, fed from one place. Every line from the peer is
 * made terminal-safe before it reaches the trace; the transcript keeps the
 * text as it was (JSON escapes it) and is bounded (src/transcript/).
 */
import type { TlsInfo } from '../channel/actions.js';
import type { Endpoint } from '../message.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import { Transcript, type FinishedSession, type SessionEnd, type TranscriptLine } from '../transcript/transcript.js';

/** Where `--transcript` sessions come from and go: a session id each, and each finished one. */
export interface TranscriptSink {
  nextId(): string;
  finished(session: FinishedSession): void;
  /** Only each message's dialogue is wanted (the inbox's), not the session's record. */
  readonly dialogueOnly?: boolean;
}

export class SessionLog {
  private readonly transcript: Transcript | null;
  /** How the session ended, the first cause given (for the trace's last line). */
  private end: SessionEnd | null = null;

  /**
   * @param trace the `-d` stream, or undefined
   * @param transcripts the `--transcript` sink, or undefined
   * @param peer who the lines are about (read at each line: a PROXY header may change it)
   */
  constructor(
    private readonly trace: NodeJS.WritableStream | undefined,
    private readonly transcripts: TranscriptSink | undefined,
    private readonly peer: () => Endpoint,
  ) {
    this.transcript = transcripts ? new Transcript(transcripts.nextId(), !transcripts.dialogueOnly) : null;
  }

  /** Whether anything records lines (so the connection need not split replies into lines for nobody). */
  get recording(): boolean {
    return this.trace !== undefined || this.transcript !== null;
  }

  /** An event: connected, TLS, a rule fired, a timeout... */
  event(text: string): void {
    this.transcript?.add('event', text);
    this.traceLine(text);
  }

  /** A command line from the client (AUTH secrets already hidden by the channel). */
  client(line: string): void {
    this.transcript?.add('client', line);
    this.traceLine(`<<< ${line}`);
  }

  /** The reply lines in `text` (CRLF-terminated). */
  server(text: string): void {
    if (!this.recording) return;
    for (const line of text.slice(0, -2).split('\r\n')) {
      this.transcript?.add('server', line);
      this.traceLine(`>>> ${line}`);
    }
  }

  /** How the session ended (the first cause given wins). */
  ended(end: SessionEnd): void {
    this.end ??= end;
    this.transcript?.ended(end);
  }

  tls(info: TlsInfo): void {
    this.event(`TLS established: ${info.protocol} ${info.cipher}`);
    if (this.transcript) this.transcript.tls = info;
  }

  rule(rule: string): void {
    this.transcript?.rules.push(rule);
    this.event(`rule fired: ${rule}`);
  }

  /** A message handed to the handler; the dialogue since the last one, for human formats to print before it. */
  message(id: string, size: number): readonly TranscriptLine[] | undefined {
    this.traceLine(`<<< [message ${id}: ${size} bytes]`);
    if (!this.transcript) return undefined;
    this.transcript.add('event', `message ${id}: ${size} bytes`);
    this.transcript.messages.push(id);
    return this.transcript.takeUnprinted();
  }

  /** The connection closed: the session's record goes to the transcript sink. */
  finish(local: Endpoint): void {
    this.traceLine(`disconnected (${this.end ?? 'client-closed'})`);
    if (!this.transcript || this.transcripts?.dialogueOnly) return;
    this.transcript.ended('client-closed');
    this.transcripts?.finished({
      record: this.transcript.toRecord(this.peer(), local),
      unprinted: this.transcript.takeUnprinted(),
    });
  }

  /** One `-d` line, with the time (UTC, ms) and the peer; peer data in it is made terminal-safe, as on stdout. */
  private traceLine(text: string): void {
    if (!this.trace) return;
    const peer = this.peer();
    this.trace.write(`${new Date().toISOString()} ${peer.address}:${peer.port} ${terminalSafe(text)}\n`);
  }
}
