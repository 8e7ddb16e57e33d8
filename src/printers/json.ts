/**
 * The `json` format: one JSON object per message on one line (JSON lines),
 * for `jq` and CI logs. The fields are documented in README.md ("JSON
 * output") and as a JSON Schema in `json-schema.ts`; a change to either is a
 * change to the schema version.
 */
import type { Finding } from '../lint/findings.js';
import type { Message, RefusalEvent } from '../message.js';
import type { RelayRecord } from '../relay/outcome.js';
import { envelopeOf, type EnvelopeRecord } from '../envelope.js';
import type { ParsedMessage } from '../mime/parse-message.js';
import type { PrintContext } from './printer.js';
import { jsonSafe } from './terminal-safe.js';

/** Bumped on any incompatible change to JsonRecord. */
export const JSON_SCHEMA_VERSION = 1;

/** The object printed for each message: the envelope, then the parsed fields. */
export interface JsonRecord extends ParsedMessage, EnvelopeRecord {
  /** Tells message lines from `--transcript`'s `session` lines (src/transcript/). */
  readonly type: 'message';
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  readonly size: number;
  readonly savedAs: string | null;
  readonly parseError: string | null;
  /** The lint's findings (src/lint/); empty when there are none or the message was not linted. */
  readonly lint: readonly Finding[];
  /** Relaying and `--deliver` only: who accepted the message and who refused it. */
  readonly relay?: RelayRecord;
  /** Scripted rules (`--reply`, `--rules`) that fired in this message's transaction, as written; absent when none. */
  readonly rules?: readonly string[];
  /** The message as received, base64; with `--json-raw`, and always when parsing failed. */
  readonly raw?: string;
}

/** The parsed fields of a message that could not be parsed. */
const UNPARSED: ParsedMessage = {
  messageId: null,
  subject: null,
  from: [],
  to: [],
  cc: [],
  bcc: [],
  date: null,
  headers: [],
  text: null,
  html: null,
  attachments: [],
};

/** Builds the record for a message; parsed fields are null or empty when `context.parsed` is absent. */
export function toJsonRecord(message: Message, context: PrintContext = {}): JsonRecord {
  const parseError = context.parsed ? null : (context.parseError ?? 'not parsed');
  const p = context.parsed ?? UNPARSED;
  return {
    type: 'message',
    schemaVersion: JSON_SCHEMA_VERSION,
    // The envelope as every record spells it (src/envelope.ts).
    ...envelopeOf(message),
    size: message.data.length,
    savedAs: context.savedAs ?? null,
    parseError,
    // Spelled out, not spread, so the order of the keys is fixed here.
    messageId: p.messageId,
    subject: p.subject,
    from: p.from,
    to: p.to,
    cc: p.cc,
    bcc: p.bcc,
    date: p.date,
    headers: p.headers,
    text: p.text,
    html: p.html,
    attachments: p.attachments,
    lint: context.lint ?? [],
    ...(context.relay ? { relay: context.relay } : {}),
    ...(message.rules && message.rules.length > 0 ? { rules: message.rules } : {}),
    // Nothing is lost: without a parse, the raw bytes are the only record.
    ...(context.includeRaw || parseError !== null ? { raw: message.data.toString('base64') } : {}),
  };
}

/**
 * The line written after a message in JSON outputs when another output
 * failed: the client got 451 and may send it again, so the message above
 * with this id was not accepted.
 */
export interface WithdrawalRecord {
  readonly type: 'withdrawn';
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  readonly id: string;
  readonly reason: string;
}

export function withdrawalRecord(id: string, reason: string): WithdrawalRecord {
  return { type: 'withdrawn', schemaVersion: JSON_SCHEMA_VERSION, id, reason };
}

/**
 * A `--json-refusals` line: a command the sink refused (4xx/5xx), a
 * connection over a limit, or a failed TLS handshake.
 */
export interface RefusalRecord {
  readonly type: 'refusal';
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  /** When, ISO 8601. */
  readonly time: string;
  readonly peer: { readonly address: string; readonly port: number };
  /** `MAIL`, `RCPT`, `DATA` (the end of the data), `AUTH`, `CONNECT` (over a limit), `STARTTLS`/`TLS`... */
  readonly command: string;
  /** The reply's code, or null when none was sent (a failed handshake). */
  readonly code: number | null;
  /** Its enhanced status code (RFC 3463), or null. */
  readonly enhanced: string | null;
  /** Its text, lines joined with a space; '' when none was sent. */
  readonly text: string;
  /** Why, when the reply does not say it (the TLS error), or null. */
  readonly reason: string | null;
}

export function refusalRecord(refusal: RefusalEvent, time: Date): RefusalRecord {
  const reply = refusal.reply;
  return {
    type: 'refusal',
    schemaVersion: JSON_SCHEMA_VERSION,
    time: time.toISOString(),
    peer: { address: refusal.peer.address, port: refusal.peer.port },
    command: refusal.command,
    code: reply ? reply.code : null,
    enhanced: reply?.enhanced || null,
    text: reply ? reply.lines.join(' ') : '',
    reason: refusal.reason,
  };
}

/** Any value as one line of JSON, newline-terminated, with no control character in it (see jsonSafe). */
export function jsonLine(value: unknown): string {
  return `${jsonSafe(JSON.stringify(value))}\n`;
}

/** One line of JSON, newline-terminated. */
export function printJson(message: Message, context: PrintContext = {}): string {
  return jsonLine(toJsonRecord(message, context));
}
