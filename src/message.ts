import type { ChannelMessage } from './channel/actions.js';
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
}
