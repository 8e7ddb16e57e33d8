/**
 * What `--workers`' processes say to each other over node:cluster's IPC
 * channel (with the 'advanced' serialization, so buffers cross as bytes).
 * A worker is a whole sink on the shared listening socket; the primary owns
 * what must be one for all of them: the outputs (so that every message is
 * written whole, never interleaved with another worker's), the inbox and
 * its HTTP server (`--http`: each accepted message is put in it before its
 * 250, and the API's send goes through a worker), the counts behind
 * `--exit-after`, `--expect*`, `--max-connections` and `--connection-rate`,
 * the run files, and the signals.
 */
import type { Text, TextOf } from '../../outputs/output.js';
import type { JsonRecord } from '../../printers/json.js';
import type { Message, RefusalEvent } from '../../message.js';
import type { Arrival } from '../../inbox/message-store.js';
import type { Envelope } from '../../http/send.js';

/** The environment variable that makes a process a worker; its value is what the primary tells it at start. */
export const WORKER_ENV = 'SMTPD_TS_WORKER';

/** What a worker is told at start, in WORKER_ENV, as JSON. */
export interface WorkerStart {
  /** For each output, whether the primary's destination is a terminal (colour is decided by it). */
  readonly isTTY: readonly boolean[];
}

/** From a worker to the primary. */
export type WorkerSays =
  | { readonly t: 'listening'; readonly address: string; readonly family: string; readonly port: number }
  | { readonly t: 'failed'; readonly message: string; readonly usage: boolean }
  /**
   * Write `text` to output `out`; answered with `written` and the same `id`.
   * `of`: the message it shows, which the primary withdraws (and removes
   * from the Maildir) if this worker dies before it is `settled`.
   */
  | { readonly t: 'write'; readonly id: number; readonly out: number; readonly text: Text; readonly of: TextOf | null }
  /** May a new connection be served? Answered with `admitted` and the same `id`. */
  | { readonly t: 'admit'; readonly id: number }
  /** An admitted connection has closed. */
  | { readonly t: 'release' }
  /** A message's reply is written (`accepted`: 2xx); sent in the same turn as the reply. */
  | { readonly t: 'settled'; readonly message: string; readonly accepted: boolean }
  | { readonly t: 'refusal'; readonly refusal: RefusalEvent }
  /** A written message's record, for the expectations. */
  | { readonly t: 'observe'; readonly record: JsonRecord }
  /** Put an accepted message in the inbox (before its 250); answered with `stored` and the same `id`. */
  | { readonly t: 'store'; readonly id: number; readonly message: Message; readonly arrival: Arrival }
  /** The answer to `submit`: the inbox ID of the message, or the refusal. */
  | { readonly t: 'submitted'; readonly id: number; readonly inboxId: string | null; readonly refusal: string | null };

/** From the primary to a worker. */
export type PrimarySays =
  | { readonly t: 'written'; readonly id: number; readonly error: string | null }
  /** `refusal`: why the connection is refused with 421, or null to serve it. */
  | { readonly t: 'admitted'; readonly id: number; readonly refusal: string | null }
  /** `inboxId`: the message's ID in the inbox, or null with `error`. */
  | { readonly t: 'stored'; readonly id: number; readonly inboxId: string | null; readonly error: string | null }
  /** Take this message as the HTTP API's send does (`authenticated`: by the API's login); answer `submitted`. */
  | {
      readonly t: 'submit';
      readonly id: number;
      readonly envelope: Envelope;
      readonly data: Buffer;
      readonly peer: string;
      readonly authenticated: boolean;
    }
  /** Finish the transactions in flight, then exit. */
  | { readonly t: 'shutdown' };
