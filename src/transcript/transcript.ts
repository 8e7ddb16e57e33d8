/**
 * Session transcripts (`--transcript`, issue 8): the dialogue of one
 * connection as data, recorded by src/connection.ts from what it sends and
 * from the channel's `trace` actions (which already hide AUTH secrets, as
 * the `-d` trace does). At the end it becomes one JSON line of type
 * `session`; human formats print the dialogue before each message and the
 * rest when the session ends (print.ts).
 */
import type { TlsInfo } from '../channel/types.js';
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
  readonly dialogue: readonly TranscriptLine[];
}

/** The dialogue of one connection, as it happens. */
export class Transcript {
  readonly startedAt = new Date();
  readonly lines: TranscriptLine[] = [];
  readonly messages: string[] = [];
  readonly rules: string[] = [];
  tls: TlsInfo | null = null;
  end: SessionEnd | null = null;
  /** Lines already printed by human formats (before a message). */
  private printed = 0;

  constructor(readonly id: string) {}

  add(dir: Direction, text: string): void {
    this.lines.push({ at: new Date().toISOString(), dir, text });
  }

  /** The lines not yet printed, marked printed. */
  takeUnprinted(): TranscriptLine[] {
    const lines = this.lines.slice(this.printed);
    this.printed = this.lines.length;
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
      dialogue: [...this.lines],
    };
  }
}

/** A finished session, as the server reports it: the record, and what human formats have not printed yet. */
export interface FinishedSession {
  readonly record: SessionRecord;
  readonly unprinted: readonly TranscriptLine[];
}
