/**
 * Mailpit's API v1 JSON, field for field (axllent/mailpit:
 * internal/storage/structs.go, server/apiv1/messages.go), built from a
 * stored message, so that Mailpit's published clients read smtpd-ts
 * unchanged. What Mailpit has no field for (the envelope, the dialogue, the
 * lint, the relay's outcome) is under `SmtpdTs`, a name no Mailpit client reads.
 */
import { unfoldedFields } from '../header-block.js';
import {
  BRIEF_TEXT_CHARS,
  bodyBytes,
  textStart,
  type ParsedAddress,
  type ParsedMessage,
} from '../mime/parse-message.js';
import { addressList } from '../mime/quick-parse.js';
import { lintMessage } from '../lint/lint.js';
import { attachmentLists, attachmentSummary, mimeParts } from './mime-parts.js';
import { Utf8Text } from './json-stream.js';
import type { InboxPage, InboxStats } from '../inbox/inbox.js';
import type { StoredMessage } from '../inbox/message-store.js';
import { VERSION } from '../version.js';
import { envelopeOf } from '../envelope.js';
import type { Finding } from '../finding.js';
import type { Message } from '../message.js';

export interface MailpitAddress {
  readonly Name: string;
  readonly Address: string;
}

export interface MailpitSummary {
  readonly ID: string;
  readonly MessageID: string;
  readonly Read: boolean;
  readonly From: MailpitAddress | null;
  readonly To: MailpitAddress[];
  readonly Cc: MailpitAddress[];
  readonly Bcc: MailpitAddress[];
  readonly ReplyTo: MailpitAddress[];
  readonly Subject: string;
  readonly Created: string;
  readonly Username: string;
  readonly Tags: string[];
  readonly Size: number;
  readonly Attachments: number;
  readonly Snippet: string;
}

const address = (a: ParsedAddress): MailpitAddress => ({ Name: a.name, Address: a.address });

/** Go's time.Time in JSON (RFC 3339, no fractional part when it is zero). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * Mailpit's snippet: the text with runs of white space as one space, cut at
 * 200 bytes with `...`. Made from the text's first BRIEF_TEXT_CHARS
 * characters (a text that starts with more white space than that has an
 * empty snippet).
 */
export function snippet(text: string | null): string {
  const window = (text ?? '').slice(0, BRIEF_TEXT_CHARS);
  const flat = window.replaceAll('\uFEFF', ' ').trim().replace(/\s+/g, ' ').trim();
  const bytes = Buffer.from(flat, 'utf8');
  if (bytes.length <= 200) return flat;
  let n = 200;
  while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  return `${bytes.subarray(0, n).toString('utf8')}...`;
}

/** The values of the first header named `name` (any case), or ''. */
function header(entry: StoredMessage, name: string): string {
  return (entry.parsed ?? entry.brief)?.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';
}

function replyTo(entry: StoredMessage): MailpitAddress[] {
  const value = header(entry, 'reply-to');
  // The parse keeps To, Cc and Bcc only: a plain `Name <a@b>` list is read here, anything else left out.
  return value === '' ? [] : (addressList(value) ?? []).map(address);
}

/** The `<...>` parts of a List-Unsubscribe value. */
function bracketed(value: string): string[] {
  const out: string[] = [];
  for (let at = value.indexOf('<'); at >= 0; at = value.indexOf('<', at + 1)) {
    const end = value.indexOf('>', at + 1);
    if (end < 0) break;
    if (end > at + 1) out.push(value.slice(at + 1, end));
    at = end;
  }
  return out;
}

/** The list's view of a message: from its parse, or the parse in brief when the whole one is not kept. */
export function summary(entry: StoredMessage): MailpitSummary {
  const p = entry.parsed ?? entry.brief;
  return {
    ID: entry.id,
    MessageID: (p?.messageId ?? '').replace(/^<|>$/g, ''),
    Read: entry.read,
    From: p && p.from.length > 0 ? address(p.from[0]!) : null,
    To: (p?.to ?? []).map(address),
    Cc: (p?.cc ?? []).map(address),
    Bcc: (p?.bcc ?? []).map(address),
    ReplyTo: replyTo(entry),
    Subject: p?.subject ?? '',
    Created: rfc3339(entry.message.receivedAt),
    Username: entry.message.authUser ?? '',
    // Its mailbox shows first among its tags.
    Tags: [...(entry.mailbox === null ? [] : [entry.mailbox]), ...entry.tags.filter((t) => t !== entry.mailbox)],
    Size: entry.message.data.length,
    Attachments: p?.attachments.filter((a) => a.disposition !== 'inline').length ?? 0,
    Snippet: snippet(p ? textStart(p) : null),
  };
}

/** GET /api/v1/info: Mailpit's AppInformation, `startedAt` the server's start (ms). */
export function appInformation(stats: InboxStats, startedAt: number): Record<string, unknown> {
  return {
    Version: `smtpd-ts ${VERSION}`,
    LatestVersion: '',
    Database: '',
    DatabaseSize: 0,
    Messages: stats.total,
    Unread: stats.unread,
    Tags: Object.fromEntries(stats.mailboxes.map((m) => [m.name, m.total])),
    RuntimeStats: {
      Uptime: Math.floor((Date.now() - startedAt) / 1000),
      Memory: process.memoryUsage().rss,
      MessagesDeleted: stats.deleted,
      SMTPAccepted: stats.total + stats.deleted,
      SMTPAcceptedSize: 0,
      SMTPRejected: 0,
      SMTPIgnored: 0,
    },
  };
}

/** Every tag of the inbox, mailboxes among them, sorted: what `GET /api/v1/tags` and a list's `tags` say. */
export function allTags(stats: InboxStats): string[] {
  const names = new Set([...stats.mailboxes.map((m) => m.name), ...stats.tags]);
  return [...names].sort((a, b) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0,
  );
}

/**
 * GET /api/v1/messages and /api/v1/search: one page (whose entries have
 * their parse, or their brief), the inbox's counts and the matches'.
 */
export function messagesSummary(page: InboxPage, stats: InboxStats, start: number): Record<string, unknown> {
  return {
    total: stats.total,
    unread: stats.unread,
    count: page.messages.length,
    messages_count: page.matched.total,
    messages_unread: page.matched.unread,
    start,
    tags: allTags(stats),
    messages: page.messages.map(summary),
  };
}

/**
 * GET /api/v1/message/{ID}: the whole message as Mailpit's Message;
 * `remote` is what its HTML's preview counted (html-view.ts).
 */
export function fullMessage(entry: StoredMessage, remote = 0): Record<string, unknown> {
  const p = entry.parsed;
  const s = summary(entry);
  const unsubscribe = header(entry, 'list-unsubscribe');
  const { inline, attachments } = attachmentLists(mimeParts(entry.message.data));
  return {
    ID: s.ID,
    MessageID: s.MessageID,
    From: s.From,
    To: s.To,
    Cc: s.Cc,
    Bcc: s.Bcc,
    ReplyTo: s.ReplyTo,
    ReturnPath: header(entry, 'return-path').replace(/^<|>$/g, '') || (s.From?.Address ?? ''),
    Subject: s.Subject,
    ListUnsubscribe: {
      Header: unsubscribe,
      Links: bracketed(unsubscribe),
      Errors: '',
      HeaderPost: header(entry, 'list-unsubscribe-post'),
    },
    Date: p?.date ? rfc3339(new Date(p.date)) : s.Created,
    Tags: s.Tags,
    Username: s.Username,
    Text: body(p, 'text'),
    HTML: body(p, 'html'),
    Size: s.Size,
    Inline: inline.map(attachmentSummary),
    Attachments: attachments.map(attachmentSummary),
    SmtpdTs: envelope(entry, remote),
  };
}

/** Each message's lint, made once: reading a 30 MiB message's lines costs tens of milliseconds each time. */
const lints = new WeakMap<Message, readonly Finding[]>();

function lintOf(m: Message): readonly Finding[] {
  let found = lints.get(m);
  if (!found) lints.set(m, (found = lintMessage(m)));
  return found;
}

/** A body for the JSON writer: its bytes when the parse has them (never made into one string here), else its text. */
function body(p: ParsedMessage | null, which: 'text' | 'html'): string | Utf8Text {
  const bytes = p && bodyBytes(p, which);
  return bytes ? new Utf8Text(bytes) : (p?.[which] ?? '');
}

/** What only smtpd-ts knows: the envelope (as the JSON line spells it: src/envelope.ts), the session, the lint. */
function envelope(entry: StoredMessage, remote: number): Record<string, unknown> {
  const m = entry.message;
  return {
    ...envelopeOf(m),
    // The protocol lint's findings (src/lint/), made here: the SMTP path does not lint for the inbox.
    lint: lintOf(m),
    // With --transcript: the session's dialogue up to this message (AUTH secrets hidden).
    dialogue: m.dialogue ?? null,
    // Relaying and --deliver: who accepted the message and who refused it.
    relay: entry.relay,
    // The remote images, style sheets and fonts its HTML asks for, which the preview blocks until allowed.
    remoteContent: remote,
    parseError: entry.parseError,
  };
}

/** Go's textproto.CanonicalMIMEHeaderKey: `message-id` -> `Message-Id`. */
export function canonicalKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** GET /api/v1/message/{ID}/headers: Go's mail.Header, keys sorted, continuation lines joined with a space. */
export function headersObject(data: Buffer): Record<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { name, value } of unfoldedFields(data, data.length, 'utf8')) {
    const key = canonicalKey(name);
    const values = out.get(key);
    if (values)
      values.push(value); // not a copy per field: 100,000 of one name would be quadratic
    else out.set(key, [value]);
  }
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
