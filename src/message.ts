import type { ChannelMessage } from './channel/actions.js';
import type { Reply } from './channel/reply.js';
import type { TranscriptLine } from './transcript/transcript.js';

/** A network endpoint. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** A message the server accepted from a client, with where and when it came from. */
export interface Message extends ChannelMessage {
  /** Unique within this process run, in arrival order: `<pid>.<n>`-style. */
  readonly id: string;
  readonly receivedAt: Date;
  /** The client (smtpd's `peer`). */
  readonly peer: Endpoint;
  /** The address the client connected to. */
  readonly local: Endpoint;
  /** `--transcript`: the session's dialogue since the last message, which human formats print before it. */
  readonly dialogue?: readonly TranscriptLine[];
  /** `--mailbox`: the mailbox it is filed in (src/mailboxes.ts); null or absent for none. */
  readonly mailbox?: string | null;
  /** `--store`: the id it is stored under in the database, which every instance's inbox uses. */
  readonly inboxId?: string;
}

/** A refused command or a failed TLS handshake, for the log, JSON and the run's summary. */
export interface RefusalEvent {
  readonly peer: Endpoint;
  /** The verb (`MAIL`, `DATA` at the end of the data, `CONNECT` over a limit), or `STARTTLS`/`TLS` for a handshake. */
  readonly command: string;
  /** The reply sent, or null when there was none (a TLS handshake failed). */
  readonly reply: Reply | null;
  /** Why, when the reply does not say it (the TLS error); null otherwise. */
  readonly reason: string | null;
}
