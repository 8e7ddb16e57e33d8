/**
 * A message as a row of `--store`'s table (postgres-store.ts), both ways:
 * the values an insert writes (the raw bytes, the envelope as jsonb, and a
 * summary that searches read, made at arrival as Mailpit makes its own),
 * and the Message read back from a row. Every text value is made fit for
 * PostgreSQL first: no NUL, bounded, so what the embedded store accepts the
 * database accepts too.
 */
import { firstFieldValues } from '../header-block.js';
import { messageOf, storedEnvelopeOf, type StoredEnvelope } from '../envelope.js';
import type { Message } from '../message.js';
import { parseMessage, type ParsedAddress, type ParsedMessage } from '../mime/parse-message.js';
import type { RelayRecord } from '../relay/outcome.js';

/** The columns an insert fills, with their placeholders' casts (words from the text given). */
export const INSERTED = [
  'id',
  'received_at',
  'mailbox',
  'size',
  'mail_from',
  'rcpt_to',
  'subject',
  'from_text',
  'to_text',
  'cc_text',
  'bcc_text',
  'reply_to_text',
  'message_id',
  'attachments',
  'envelope',
  'raw',
  'words',
  'brief',
  'tags',
];
/** Messages up to this size are parsed for their summary (as Mailpit parses at ingest); larger give their headers. */
const PARSED_MAX = 256 * 1024;
/**
 * Text indexed for full-text search, at most: PostgreSQL's tsvector is at
 * most 1 MiB, and a To header of 40,000 addresses passed it (every retry of
 * that message, and every message committed with it, got 451).
 */
const WORDS_MAX = 256 * 1024;

/** What the search reads of a message, as the embedded store's predicate reads it (src/inbox/search.ts). */
interface Summary {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
  readonly replyTo: string;
  readonly messageId: string;
  readonly attachments: number;
  readonly text: string;
}

async function summarize(message: Message): Promise<Summary> {
  const list = (as: readonly ParsedAddress[]) =>
    as
      .map((a) => `${a.name} <${a.address}>`)
      .join(', ')
      .toLowerCase();
  if (message.data.length <= PARSED_MAX) {
    const p = await parseMessage(message).catch(() => null);
    if (p)
      return {
        subject: p.subject ?? '',
        from: list(p.from),
        to: list(p.to),
        cc: list(p.cc),
        bcc: list(p.bcc),
        replyTo: (p.headers.find((h) => h.name.toLowerCase() === 'reply-to')?.value ?? '').toLowerCase(),
        messageId: (p.messageId ?? '').replace(/^<|>$/g, '').toLowerCase(),
        attachments: p.attachments.length,
        text: (p.text ?? p.html ?? '').slice(0, WORDS_MAX),
      };
  }
  const fields = firstFieldValues(message.data, message.data.length, 'utf8');
  const get = (name: string) => (fields.get(name) ?? '').toLowerCase();
  return {
    subject: (fields.get('subject') ?? '').slice(0, 1000),
    from: get('from'),
    to: get('to'),
    cc: get('cc'),
    bcc: get('bcc'),
    replyTo: get('reply-to'),
    messageId: get('message-id').replace(/^<|>$/g, ''),
    attachments: /^multipart\/mixed/.test(get('content-type')) ? 1 : 0,
    text: '',
  };
}

/** The most characters of a summary column (addresses, subject), which searches read with LIKE. */
const MAX_COLUMN_CHARS = 64 * 1024;

/**
 * A summary value as a text column takes it: PostgreSQL's text holds no
 * NUL (it becomes U+FFFD, as a lone surrogate does on the way), and the
 * value is cut at `max` characters.
 */
function column(value: string, max = MAX_COLUMN_CHARS): string {
  return value.replaceAll('\0', '\ufffd').slice(0, max);
}

export interface Row {
  id: string;
  received_at: Date;
  mailbox: string | null;
  read: boolean;
  mail_from: string;
  rcpt_to: string[];
  envelope: Envelope;
  raw: Buffer;
  /** A large message's parse in brief (`briefParse`), for lists; null for others. */
  brief: ParsedMessage | null;
  tags: string[];
}

/** A value as jsonb takes it: no `\u0000` in any string (U+FFFD instead). */
export function jsonb(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replaceAll('\0', '\ufffd') : v));
}

/** The envelope as stored (src/envelope.ts's StoredEnvelope), with the relay's outcome. */
type Envelope = StoredEnvelope & { readonly relay?: RelayRecord | null };

/** The message a row holds: its envelope and bytes, filed in the row's mailbox. */
export function toMessage(row: Row): Message {
  const message = messageOf(row.envelope, row.raw, {
    receivedAt: row.received_at,
    mailFrom: row.mail_from,
    rcptTo: row.rcpt_to,
  });
  return { ...message, mailbox: row.mailbox };
}

/** One message's values for the insert, in INSERTED's order. */
export type InsertRow = readonly unknown[];

/** The values an insert writes for `message`, in INSERTED's order. */
export async function insertRow(
  id: string,
  message: Message,
  relay: RelayRecord | null,
  brief: ParsedMessage | null = null,
  tags: readonly string[] = [],
): Promise<InsertRow> {
  const envelope: Envelope = { ...storedEnvelopeOf(message), relay };
  const s = await summarize(message);
  return [
    id,
    message.receivedAt,
    message.mailbox === undefined || message.mailbox === null ? null : column(message.mailbox),
    message.data.length,
    column(message.mailFrom),
    message.rcptTos.map((r) => column(r)),
    column(s.subject),
    column(s.from),
    column(s.to),
    column(s.cc),
    column(s.bcc),
    column(s.replyTo),
    column(s.messageId),
    s.attachments,
    // jsonb holds no \u0000 either: NUL in any string of the envelope (a HELO, the dialogue) is U+FFFD.
    jsonb(envelope),
    message.data,
    // The words PostgreSQL's full-text search finds a message by: subject, addresses, envelope, text.
    column([s.subject, s.from, s.to, s.cc, s.bcc, message.mailFrom, ...message.rcptTos, s.text].join(' '), WORDS_MAX),
    brief === null ? null : jsonb(brief),
    tags.map((t) => column(t)),
  ];
}
