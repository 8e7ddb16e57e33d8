/**
 * The one way an inbox is opened from its settings, for the CLI and the
 * library alike: PostgreSQL with a `--store` URL, else the Maildir read
 * back with `--save-dir`, else memory. Each is an Inbox (inbox.ts); the
 * database's driver is loaded only when a URL is given.
 */
import { StartError } from '../errors.js';
import type { MailboxLimits } from '../mailboxes.js';
import type { Inbox } from './inbox.js';
import { MemoryInbox } from './memory-inbox.js';
import { INBOX_DEFAULTS, type StoreLimits } from './message-store.js';

export interface InboxSettings {
  /**
   * The bounds: count (`--max-messages`), bytes (`--max-inbox-size`), age
   * (`--max-age`); 0 for none; INBOX_DEFAULTS where absent.
   */
  readonly maxMessages?: number;
  readonly maxBytes?: number;
  readonly maxAgeMs?: number;
  /** Each mailbox's own bounds (`--mailbox NAME=...;max-messages=N;max-age=D`); none by default. */
  readonly mailboxLimits?: ReadonlyMap<string, MailboxLimits>;
  /** `--save-dir`: the Maildir the messages are read back from and kept in step with. */
  readonly maildir?: string | null;
  /** `--store`: the PostgreSQL URL. */
  readonly database?: string | null;
  /** Where what happened is said (messages read back, a lost database connection). */
  readonly log: NodeJS.WritableStream;
}

/** Opens the inbox the settings name; a database that cannot be used is a StartError. */
export async function openInbox(given: InboxSettings): Promise<Inbox> {
  const settings = {
    maxMessages: given.maxMessages ?? INBOX_DEFAULTS.maxMessages,
    maxBytes: given.maxBytes ?? INBOX_DEFAULTS.maxBytes,
    maxAgeMs: given.maxAgeMs ?? INBOX_DEFAULTS.maxAgeMs,
  };
  const mailboxLimits = given.mailboxLimits ?? new Map<string, MailboxLimits>();
  const { database, log } = given;
  if (database) {
    const { PostgresInbox, redactUrl } = await import('./postgres-inbox.js');
    try {
      return await PostgresInbox.open({ ...settings, log, url: database, mailboxLimits });
    } catch (err) {
      const message = (err as Error).message;
      if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
        throw new StartError(`--store needs the pg package (npm i pg): ${message}`);
      throw new StartError(`cannot use the --store database ${redactUrl(database)}: ${message}`);
    }
  }
  const limits: StoreLimits = {
    maxMessages: settings.maxMessages,
    maxBytes: settings.maxBytes,
    maxAgeMs: settings.maxAgeMs,
    mailbox: (name) => mailboxLimits.get(name) ?? {},
  };
  let inbox: MemoryInbox;
  if (given.maildir) {
    const { MaildirInbox } = await import('./maildir-inbox.js');
    const maildir = await MaildirInbox.open(given.maildir, limits, log);
    if (maildir.read > 0)
      log.write(`smtpd-ts: inbox: ${maildir.read} message(s) read from the Maildir ${given.maildir}\n`);
    inbox = maildir;
  } else inbox = new MemoryInbox(limits);
  // A mailbox's age bound is kept as the inbox's is: pruned every few seconds too.
  const ages = [...mailboxLimits.values()].map((l) => l.maxAgeMs ?? 0).filter((a) => a > 0);
  inbox.store.watchAge(ages.length > 0 ? Math.min(...ages) : 0);
  return inbox;
}
