/**
 * The inbox behind `--http`: every message answered 250 is added here
 * before its 250 (the handler's onWritten hook), with what the parse found,
 * newest last. Bounded by a count (`--max-messages`, Mailpit's 500 by
 * default): the oldest go first. In memory; the HTTP APIs
 * (src/http/) read it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Message } from '../message.js';
import type { ParsedMessage } from '../printers/parse-message.js';

/** Mailpit's default number of messages kept. */
export const MAX_MESSAGES_DEFAULT = 500;

export interface StoredMessage {
  /** Mailpit's form: 22 letters and digits. */
  readonly id: string;
  readonly message: Message;
  /** Null when the message could not be parsed (`parseError` says why). */
  readonly parsed: ParsedMessage | null;
  readonly parseError: string | null;
  /** The Maildir file that holds it (`--save-dir`), or null. */
  readonly file: string | null;
  read: boolean;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character identifier of letters and digits, as Mailpit's shortuuid (128 random bits). */
export function newId(): string {
  let n = BigInt(`0x${randomBytes(16).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 22; i++) {
    out = ALPHABET[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out;
}

/** An id of Mailpit's form that a Maildir file name always gives, so that a message keeps its id across restarts. */
export function idFromName(name: string): string {
  let n = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 32)}`);
  let out = '';
  for (let i = 0; i < 22; i++) {
    out = ALPHABET[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out;
}

/**
 * Events: `new` (a StoredMessage), `delete` (its id), `truncate` (all
 * deleted), `update` (read status changed: the StoredMessage), and
 * `removed` (the StoredMessage and `deleted` or `pruned`) for whoever keeps
 * its file.
 */
export class MessageStore extends EventEmitter {
  /** Oldest first. */
  private readonly entries: StoredMessage[] = [];
  private readonly byId = new Map<string, StoredMessage>();
  /** Messages pruned or deleted since start. */
  deletedCount = 0;

  /** @param maxMessages the most kept; 0 for no limit. */
  constructor(readonly maxMessages = MAX_MESSAGES_DEFAULT) {
    super();
  }

  /** Adds a message, newest; `file` (its Maildir file) gives its id. */
  add(
    message: Message,
    parsed: ParsedMessage | null,
    parseError: string | null = null,
    file: string | null = null,
  ): StoredMessage {
    const id = file === null ? newId() : idFromName(path.basename(file));
    const entry: StoredMessage = { id, message, parsed, parseError, file, read: false };
    if (this.byId.has(id)) this.remove(id, 'pruned');
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    while (this.maxMessages > 0 && this.entries.length > this.maxMessages) this.remove(this.entries[0]!.id, 'pruned');
    this.emit('new', entry);
    return entry;
  }

  get size(): number {
    return this.entries.length;
  }

  get unread(): number {
    let n = 0;
    for (const e of this.entries) if (!e.read) n++;
    return n;
  }

  /** `id`, or the newest message for `latest`; undefined when there is none. */
  get(id: string): StoredMessage | undefined {
    return id === 'latest' ? this.entries.at(-1) : this.byId.get(id);
  }

  /** Newest first, from `start`, at most `limit`, optionally only those matching. */
  list(start: number, limit: number, matches?: (e: StoredMessage) => boolean): StoredMessage[] {
    const out: StoredMessage[] = [];
    let skipped = 0;
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i]!;
      if (matches && !matches(e)) continue;
      if (skipped++ < start) continue;
      out.push(e);
    }
    return out;
  }

  /** Every message, newest first, that `matches`. */
  filter(matches: (e: StoredMessage) => boolean): StoredMessage[] {
    return this.list(0, Number.POSITIVE_INFINITY, matches);
  }

  /** Removes a message: `deleted` through the API, or `pruned` past the bounds (its file is kept then). */
  remove(id: string, reason: 'deleted' | 'pruned' = 'deleted'): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.deletedCount++;
    this.emit('delete', id);
    this.emit('removed', entry, reason);
    return true;
  }

  clear(): void {
    const all = this.entries.splice(0);
    this.deletedCount += all.length;
    this.byId.clear();
    this.emit('truncate');
    for (const entry of all) this.emit('removed', entry, 'deleted');
  }

  setRead(entry: StoredMessage, read: boolean): void {
    if (entry.read === read) return;
    entry.read = read;
    this.emit('update', entry);
  }
}
