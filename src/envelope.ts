/**
 * A message's envelope as every record writes it: one shape, one spelling,
 * and its conversion to and from each form. The JSON line (printers/json.ts)
 * and Mailpit's `SmtpdTs` (http/mailpit-shapes.ts) carry `envelopeOf`'s
 * fields under these names; the PostgreSQL row keeps it whole as jsonb and
 * reads it back with `messageOf`; a Maildir file starts with its three
 * lines (`envelopeLines`, `readEnvelopeLines`), all aiosmtpd's Message
 * handler wrote.
 *
 * A message has two IDs, mapped here and nowhere else:
 * - `id`, the SMTP side's (`<pid>.<n>`): the JSON line's `id`, the library's
 *   `SinkMessage.id`, the log's `message N`; unique within a run.
 * - the inbox's (22 letters and digits, as Mailpit's): the HTTP APIs' `ID`,
 *   `${ID}@${hostname}` in MailHog's; kept across restarts (the database's
 *   row, or derived from the Maildir file's name).
 * Mailpit's `SmtpdTs.id` gives the first for the second; with `--store`
 * (`inboxId`, assigned before the outputs are written) the JSON line's
 * `inboxId` gives the second for the first.
 */
import type { BareLineEndings, TlsInfo } from './channel/actions.js';
import type { Endpoint, Message } from './message.js';
import { terminalSafe } from './printers/terminal-safe.js';
import type { TranscriptLine } from './transcript/transcript.js';

export interface EnvelopeRecord {
  /** The SMTP side's ID (`<pid>.<n>`). */
  readonly id: string;
  /** The inbox's ID when it was assigned before the outputs (`--store`); absent otherwise. */
  readonly inboxId?: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  readonly peer: Endpoint;
  readonly local: Endpoint;
  readonly helo: string;
  /** EHLO rather than HELO. */
  readonly esmtp: boolean;
  readonly tls: TlsInfo | null;
  readonly authUser: string | null;
  readonly mailbox: string | null;
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  readonly mailOptions: readonly string[];
  readonly rcptOptions: readonly string[];
}

/** What the stored forms keep besides (the database's jsonb): the bare line endings and the dialogue. */
export interface StoredEnvelope extends EnvelopeRecord {
  readonly bareLineEndings: BareLineEndings;
  readonly dialogue: readonly TranscriptLine[] | null;
}

/** The envelope of `message`, in the order every record writes it. */
export function envelopeOf(message: Message): EnvelopeRecord {
  return {
    id: message.id,
    ...(message.inboxId !== undefined ? { inboxId: message.inboxId } : {}),
    receivedAt: message.receivedAt.toISOString(),
    peer: { address: message.peer.address, port: message.peer.port },
    local: { address: message.local.address, port: message.local.port },
    helo: message.helo,
    esmtp: message.extended,
    tls: message.tls ? { protocol: message.tls.protocol, cipher: message.tls.cipher } : null,
    authUser: message.authUser ?? null,
    mailbox: message.mailbox ?? null,
    mailFrom: message.mailFrom,
    rcptTo: message.rcptTos,
    mailOptions: message.mailOptions,
    rcptOptions: message.rcptOptions,
  };
}

/** The envelope as a store keeps it: all of `envelopeOf`, the bare line endings and the dialogue. */
export function storedEnvelopeOf(message: Message): StoredEnvelope {
  return {
    ...envelopeOf(message),
    bareLineEndings: message.bareLineEndings,
    dialogue: message.dialogue ?? null,
  };
}

/**
 * The message a stored envelope and its bytes make. Rows written before
 * this shape (`extended`, `messageId`, no `receivedAt`) are read too, with
 * what the row's columns say (`fallback`).
 */
export function messageOf(
  stored: StoredEnvelope,
  data: Buffer,
  fallback: { readonly receivedAt: Date; readonly mailFrom: string; readonly rcptTo: readonly string[] },
): Message {
  const older = stored as Partial<StoredEnvelope> & { extended?: boolean; messageId?: string };
  const dialogue = stored.dialogue ?? null;
  return {
    id: stored.id ?? older.messageId ?? '',
    ...(stored.inboxId !== undefined ? { inboxId: stored.inboxId } : {}),
    receivedAt: stored.receivedAt ? new Date(stored.receivedAt) : fallback.receivedAt,
    peer: stored.peer,
    local: stored.local,
    helo: stored.helo,
    extended: stored.esmtp ?? older.extended ?? false,
    mailFrom: stored.mailFrom ?? fallback.mailFrom,
    rcptTos: stored.rcptTo ?? fallback.rcptTo,
    mailOptions: stored.mailOptions,
    rcptOptions: stored.rcptOptions,
    data,
    bareLineEndings: stored.bareLineEndings,
    tls: stored.tls ?? null,
    authUser: stored.authUser ?? null,
    mailbox: stored.mailbox ?? null,
    ...(dialogue ? { dialogue } : {}),
  };
}

/**
 * The lines a Maildir file starts with (aiosmtpd's X-Peer, X-MailFrom,
 * X-RcptTo), LF-ended. An envelope address may hold a CR or LF in a quoted
 * local part (`"x\rSubject: FAKE"@evil.test`): written as it is, it would
 * forge header lines, so every control character is escaped (`\x0d`).
 */
export function envelopeLines(message: Message): string {
  const safe = (text: string) => terminalSafe(text);
  return `X-Peer: ${safe(message.peer.address)}\nX-MailFrom: ${safe(message.mailFrom)}\nX-RcptTo: ${message.rcptTos.map(safe).join(', ')}\n`;
}

/** The envelope lines at the top of a Maildir file, and where the message starts after them. */
export function readEnvelopeLines(file: Buffer): { peer: string; from: string; to: string[]; start: number } {
  const fields = new Map<string, string>();
  let pos = 0;
  for (let i = 0; i < 3; i++) {
    const lf = file.indexOf(0x0a, pos);
    if (lf < 0) break;
    const line = file.toString('utf8', pos, lf);
    const m = /^(X-Peer|X-MailFrom|X-RcptTo): (.*)$/.exec(line);
    if (!m) break;
    fields.set(m[1]!, m[2]!);
    pos = lf + 1;
  }
  const to = (fields.get('X-RcptTo') ?? '').split(', ').filter((r) => r !== '');
  return { peer: fields.get('X-Peer') ?? '', from: fields.get('X-MailFrom') ?? '', to, start: pos };
}
