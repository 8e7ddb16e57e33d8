/**
 * Session transcripts (`--transcript`): the dialogue of one
 * connection as data, recorded by src/server/connection.ts from what it sends and
 * from the channel's `trace` actions (which already hide AUTH secrets, as
 * the `-d` trace does). At the end it becomes one JSON line of type
 * `session`; human formats print the dialogue before each message and the
 * rest when the session ends (print.ts).
 */
import type { TlsInfo } from '../channel/actions.js';
import type { Endpoint } from '../message.js';
import { JSON_SCHEMA_VERSION } from '../printers/json.js';

/** Who a line is from: the client, the server, or an event (`*`: connected, TLS, a rule fired...). */
export type Direction = 'client' | 'server' | 'event';

export interface TranscriptLine {
  /** ISO 8601 time. */
  readonly at: string;
  readonly dir: Direction;
  readonly text: string;
}

/** How a session ended. */
export type SessionEnd =
  /** The client sent QUIT (221). */
  | 'quit'
  /** The client closed the connection without QUIT. */
  | 'client-closed'
  /** We closed after a reply: 421 for too many messages, a rule's `!close`. */
  | 'server-closed'
  /** A command, data or transaction timeout (421). */
  | 'timeout'
  /** A scripted `drop`. */
  | 'drop'
  /** The server was shutting down (421). */
  | 'shutdown'
  /** The TLS handshake or a PROXY header failed. */
  | 'error';

/** The `session` line of the JSON output. */
export interface SessionRecord {
  readonly type: 'session';
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  readonly id: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly peer: Endpoint;
  readonly local: Endpoint;
  /** The TLS session at the end, or null in the clear. */
  readonly tls: TlsInfo | null;
  readonly end: SessionEnd;
  /** Ids of the messages handed to the handler, in order. */
  readonly messages: readonly string[];
  /** Scripted rules that fired, as written, in order. */
  readonly rules: readonly string[];
  /** The first and last lines of the dialogue; an event line `[N lines left out]` stands for the rest. */
  readonly dialogue: readonly TranscriptLine[];
  /** How many lines the dialogue left out (0 for most sessions). */
  readonly omittedLines: number;
}

/** Lines kept from the start of a session's dialogue. */
export const TRANSCRIPT_HEAD_LINES = 200;
/** Lines kept from its end: a session of five million NOOPs keeps 200 + 800 lines and a count. */
export const TRANSCRIPT_TAIL_LINES = 800;

/** A line with its place in the whole dialogue. */
interface Numbered {
  readonly seq: number;
  readonly line: TranscriptLine;
}

let lastMs = 0;
let lastIso = new Date(0).toISOString();

/** The time now in ISO 8601; many lines fall in one millisecond under load, and share its string. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/** The event line that stands where `count` lines were left out. */
function gap(count: number, at: string): TranscriptLine {
  return { at, dir: 'event', text: `[${count} line${count === 1 ? '' : 's'} left out]` };
}

/**
 * The dialogue of one connection, as it happens, bounded: the first
 * TRANSCRIPT_HEAD_LINES lines and the last TRANSCRIPT_TAIL_LINES are kept,
 * and what lies between is counted.
 */
export class Transcript {
  readonly startedAt = new Date();
  readonly messages: string[] = [];
  readonly rules: string[] = [];
  tls: TlsInfo | null = null;
  end: SessionEnd | null = null;
  private readonly head: Numbered[] = [];
  /** The latest lines; trimmed to TRANSCRIPT_TAIL_LINES when it holds twice as many (amortised). */
  private tail: Numbered[] = [];
  /** Lines added so far. */
  private total = 0;
  /** Lines before this number were printed by human formats (before a message), or left out. */
  private printed = 0;

  /** Dialogue only (the inbox's, without --transcript): the lines since the last message, no session record. */
  private readonly recent: TranscriptLine[] | null;
  /** Lines left out of `recent` since the last message. */
  private recentOmitted = 0;

  /**
   * @param session keep the session's record (--transcript); false: only the
   *   lines since the last message, each taken once by takeUnprinted (the inbox's
   *   dialogue: no copies, no record, far less for the garbage collector)
   */
  constructor(
    readonly id: string,
    session = true,
  ) {
    this.recent = session ? null : [];
  }

  add(dir: Direction, text: string): void {
    const recent = this.recent;
    if (recent) {
      if (recent.length < TRANSCRIPT_TAIL_LINES) recent.push({ at: isoNow(), dir, text });
      else this.recentOmitted++;
      return;
    }
    const entry = { seq: this.total++, line: { at: isoNow(), dir, text } };
    if (this.head.length < TRANSCRIPT_HEAD_LINES) return void this.head.push(entry);
    this.tail.push(entry);
    if (this.tail.length >= 2 * TRANSCRIPT_TAIL_LINES) this.tail = this.tail.slice(-TRANSCRIPT_TAIL_LINES);
  }

  /** The lines kept, from line number `from` on, with a gap line where lines were left out. */
  private kept(from: number): TranscriptLine[] {
    // Only the lines from `from` on are read (a message's few, not the session's thousand):
    // the head's are numbered by their place; the tail's are found from its end.
    const tailStart = Math.max(0, this.tail.length - TRANSCRIPT_TAIL_LINES);
    let at = this.tail.length;
    while (at > tailStart && this.tail[at - 1]!.seq >= from) at--;
    const picked = from < this.head.length ? this.head.slice(from).concat(this.tail.slice(at)) : this.tail.slice(at);
    const out: TranscriptLine[] = [];
    let next = from;
    for (const { seq, line } of picked) {
      if (seq > next) out.push(gap(seq - next, line.at));
      out.push(line);
      next = seq + 1;
    }
    return out;
  }

  /** How many lines were left out of the record. */
  get omitted(): number {
    return this.total - this.head.length - Math.min(this.tail.length, TRANSCRIPT_TAIL_LINES);
  }

  /** Every line kept (with a gap line where some were left out). */
  get lines(): TranscriptLine[] {
    return this.kept(0);
  }

  /** The lines not yet printed, marked printed. */
  takeUnprinted(): TranscriptLine[] {
    if (this.recent) {
      const lines = this.recent.splice(0);
      if (this.recentOmitted > 0) lines.push(gap(this.recentOmitted, isoNow()));
      this.recentOmitted = 0;
      return lines;
    }
    const lines = this.kept(this.printed);
    this.printed = this.total;
    return lines;
  }

  /** Sets how the session ended, unless that is already known (the first cause wins). */
  ended(end: SessionEnd): void {
    this.end ??= end;
  }

  toRecord(peer: Endpoint, local: Endpoint): SessionRecord {
    return {
      type: 'session',
      schemaVersion: JSON_SCHEMA_VERSION,
      id: this.id,
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      peer: { address: peer.address, port: peer.port },
      local: { address: local.address, port: local.port },
      tls: this.tls,
      end: this.end ?? 'client-closed',
      messages: [...this.messages],
      rules: [...this.rules],
      dialogue: this.lines,
      omittedLines: this.omitted,
    };
  }
}

/** A finished session, as the server reports it: the record, and what human formats have not printed yet. */
export interface FinishedSession {
  readonly record: SessionRecord;
  readonly unprinted: readonly TranscriptLine[];
}
