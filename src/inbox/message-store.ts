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
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from '../message.js';
import type { RelayRecord } from '../relay/outcome.js';
import { parseMessage, type ParsedMessage } from '../mime/parse-message.js';
import type { MailboxLimits } from '../mailboxes.js';

/** Mailpit's default number of messages kept. */
export const MAX_MESSAGES_DEFAULT = 500;

/** The most bytes of messages the inbox holds by default (`--max-inbox-size`). */
export const MAX_INBOX_BYTES_DEFAULT = 128 * 1024 * 1024;

/** The inbox's bounds where none is given: every backend's, the one place they are decided. */
export const INBOX_DEFAULTS = { maxMessages: MAX_MESSAGES_DEFAULT, maxBytes: MAX_INBOX_BYTES_DEFAULT, maxAgeMs: 0 };

/** The inbox's bounds: past any of them, the oldest messages go first. */
export interface StoreLimits {
  /** Messages at most; 0 for no limit. */
  readonly maxMessages?: number;
  /** Bytes of message data at most; 0 for no limit. */
  readonly maxBytes?: number;
  /** Age at most, in ms (`--max-age`); 0 for no limit. */
  readonly maxAgeMs?: number;
  /** A mailbox's own bounds (`--mailbox NAME=...;max-messages=N;max-age=D`), within the inbox's. */
  readonly mailbox?: (name: string) => MailboxLimits;
}

/** What the parse of a stored message gave. */
export interface ParseResult {
  /** Null when the message could not be parsed (`parseError` says why). */
  readonly parsed: ParsedMessage | null;
  readonly parseError: string | null;
}

/**
 * A message in the inbox. Its parse is made when the API first needs it and
 * kept for the most recently used messages only (PARSED_KEPT): holding the
 * parsed fields of every stored message cost the SMTP path a parse and the
 * garbage collector a large graph per message.
 */
export class StoredMessage {
  read = false;
  /** Its tags (tags.ts): cleaned, each once, sorted; its mailbox is not among them. */
  tags: readonly string[] = [];
  /** @internal The parse, while cached by the store (MessageStore.load). */
  slot: ParseResult | null = null;
  /** @internal The parse under way: every request that needs it waits for this one, none starts another. */
  parsing: Promise<ParseResult> | null = null;

  constructor(
    /** Mailpit's form: 22 letters and digits. */
    readonly id: string,
    readonly message: Message,
    /** The Maildir file that holds it (`--save-dir`), or null. */
    readonly file: string | null,
    /** Relaying and `--deliver`: who accepted the message and who refused it; null otherwise. */
    readonly relay: RelayRecord | null = null,
    /**
     * The parse in brief (`briefParse`), kept for the message's life: a list
     * shows it without the whole parse, which a large message is not kept in.
     */
    readonly brief: ParsedMessage | null = null,
  ) {}

  /** The parsed fields, once `MessageStore.load` has run for it; null otherwise or when it cannot be parsed. */
  get parsed(): ParsedMessage | null {
    return this.slot?.parsed ?? null;
  }

  get parseError(): string | null {
    return this.slot?.parseError ?? null;
  }

  /** The mailbox it is filed in, or null. */
  get mailbox(): string | null {
    return this.message.mailbox ?? null;
  }
}

/** How long a walk over the inbox runs before it gives other work a turn, in ms. */
const SLICE_MS = 10;

/** How many stored messages keep their parse at once. */
export const PARSED_KEPT = 512;

/**
 * The most message bytes whose parse is kept at once (the newest parse is
 * always kept): a parse holds up to twice its message's size (its text
 * and HTML, and what a search reads, the same again), and 512 large ones
 * held gigabytes.
 */
export const PARSED_KEPT_BYTES = 32 * 1024 * 1024;

/**
 * Messages at least this large are never parsed on the main thread: the
 * CLI's render worker parses them before their 250 and hands the inbox the
 * parse in brief for its lists (`OutputHandler`'s `briefFrom`), the HTTP
 * server's view worker whole when a route needs it.
 */
export const PARSE_OFFLOAD_BYTES = 256 * 1024;

/** What comes with a message into the store; all of it optional. */
export interface Arrival {
  /** The Maildir file that holds it (`--save-dir`). */
  readonly file?: string | null;
  /** A parse made already (the printers'). */
  readonly parse?: ParseResult | null;
  /** The parse in brief (`briefParse`), when the whole one stayed in a worker. */
  readonly brief?: ParsedMessage | null;
  readonly relay?: RelayRecord | null;
  /** Its ID when it has one (the database's); else the message's `inboxId`, its file's, or a new one. */
  readonly id?: string;
  /** Its tags at arrival (tags.ts's `arrivalTags`). */
  readonly tags?: readonly string[];
}

export async function parseStored(message: Message): Promise<ParseResult> {
  try {
    return { parsed: await parseMessage(message), parseError: null };
  } catch (err) {
    return { parsed: null, parseError: err instanceof Error ? err.message : String(err) };
  }
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random bytes drawn a few KiB at a time (one system call per few hundred ids, not one each). */
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * A 22-character identifier of letters and digits, as Mailpit's shortuuid
 * (about 131 random bits): each character from a random byte below 248
 * (4 x 62, so every character is equally likely), the others drawn again.
 */
export function newId(): string {
  let out = '';
  while (out.length < 22) {
    if (poolAt >= pool.length) {
      pool = randomBytes(4096);
      poolAt = 0;
    }
    const b = pool[poolAt++]!;
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

/** An id of Mailpit's form that a Maildir file name always gives, so that a message keeps its id across restarts. */
export function idFromName(name: string): string {
  // A derived id needs no even spread of characters, only the hash's: a byte each.
  const hash = createHash('sha256').update(name).digest();
  let out = '';
  for (let i = 0; i < 22; i++) out += ALPHABET[hash[i]! % 62];
  return out;
}

/**
 * Events: `new` (a StoredMessage), `delete` (its id, and `deleted` or
 * `pruned`), `truncate` (all deleted), `update` (read status changed: the StoredMessage), and
 * `removed` (the StoredMessage and `deleted`, `pruned` or `cleared`) for
 * whoever keeps its file.
 */
export class MessageStore extends EventEmitter {
  /** Oldest first. */
  private readonly entries: StoredMessage[] = [];
  private readonly byId = new Map<string, StoredMessage>();
  /** The messages whose parse is kept, least recently used first. */
  private readonly withParse = new Set<StoredMessage>();
  /** The bytes of the messages in withParse. */
  private parsedBytes = 0;
  /** Messages pruned or deleted since start. */
  deletedCount = 0;
  /** Bytes of message data held (the inbox's stats read it; only this class changes it). */
  heldBytes = 0;
  readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  /** Each mailbox's messages, oldest first. */
  private readonly byMailbox = new Map<string, StoredMessage[]>();
  private readonly mailboxLimits: (name: string) => MailboxLimits;
  /** How a message is parsed when first needed: here, unless the HTTP server hands large ones to its worker. */
  parser: (message: Message) => Promise<ParseResult> = parseStored;

  constructor(limits: StoreLimits = {}) {
    super();
    this.maxMessages = limits.maxMessages ?? INBOX_DEFAULTS.maxMessages;
    this.maxBytes = limits.maxBytes ?? INBOX_DEFAULTS.maxBytes;
    this.maxAgeMs = limits.maxAgeMs ?? INBOX_DEFAULTS.maxAgeMs;
    this.mailboxLimits = limits.mailbox ?? (() => ({}));
  }

  /** The mailboxes that hold messages, by name, with their counts. */
  mailboxes(): { name: string; total: number; unread: number }[] {
    return [...this.byMailbox]
      .map(([name, list]) => ({ name, total: list.length, unread: list.filter((e) => !e.read).length }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Removes what is past a mailbox's own bounds, oldest first. */
  private pruneMailbox(name: string, now: number): void {
    const { maxMessages, maxAgeMs } = this.mailboxLimits(name);
    if (maxMessages === undefined && maxAgeMs === undefined) return;
    for (let list = this.byMailbox.get(name); list && list.length > 0; list = this.byMailbox.get(name)) {
      const oldest = list[0]!;
      const over =
        (maxMessages !== undefined && list.length > maxMessages) ||
        (maxAgeMs !== undefined && now - oldest.message.receivedAt.getTime() > maxAgeMs);
      if (!over) return;
      this.remove(oldest.id, 'pruned');
    }
  }

  /**
   * With a maximum age (the inbox's, or the shortest of the mailboxes',
   * `mailboxAgeMs`), prunes every few seconds too (the timer holds no process open).
   */
  watchAge(mailboxAgeMs = 0): void {
    const ages = [this.maxAgeMs, mailboxAgeMs].filter((a) => a > 0);
    if (ages.length > 0) setInterval(() => this.prune(), Math.min(...ages, 10_000)).unref();
  }

  /** Removes what is past the bounds, oldest first (`now` for the age). */
  prune(now = Date.now()): void {
    const tooOld = (e: StoredMessage) => this.maxAgeMs > 0 && now - e.message.receivedAt.getTime() > this.maxAgeMs;
    while (this.entries.length > 0) {
      const oldest = this.entries[0]!;
      const over =
        (this.maxMessages > 0 && this.entries.length > this.maxMessages) ||
        (this.maxBytes > 0 && this.heldBytes > this.maxBytes && this.entries.length > 1) ||
        tooOld(oldest);
      if (!over) break;
      this.remove(oldest.id, 'pruned');
    }
    for (const name of [...this.byMailbox.keys()]) this.pruneMailbox(name, now);
  }

  /** Adds a message, newest, with what came with it. */
  add(message: Message, arrival: Arrival = {}): StoredMessage {
    const file = arrival.file ?? null;
    const id = arrival.id ?? message.inboxId ?? (file === null ? newId() : idFromName(path.basename(file)));
    const entry = new StoredMessage(id, message, file, arrival.relay ?? null, arrival.brief ?? null);
    entry.tags = arrival.tags ?? [];
    if (arrival.parse) this.keep(entry, arrival.parse);
    if (this.byId.has(id)) this.remove(id, 'pruned');
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    const mailbox = entry.mailbox;
    if (mailbox !== null) {
      const list = this.byMailbox.get(mailbox);
      if (list) list.push(entry);
      else this.byMailbox.set(mailbox, [entry]);
    }
    this.heldBytes += message.data.length;
    this.prune();
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

  /** Newest first, from `start`, at most `limit`. */
  list(start: number, limit: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let i = this.entries.length - 1 - start; i >= 0 && out.length < limit; i--) out.push(this.entries[i]!);
    return out;
  }

  /** Parses the messages (or finds their parse kept); `entry.parsed` holds it until this resolves and the turn ends. */
  async load(...entries: StoredMessage[]): Promise<void> {
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.slot) {
          // The most recently used goes last.
          if (this.withParse.delete(entry)) this.withParse.add(entry);
          return;
        }
        if (!entry.parsing) {
          entry.parsing = this.parser(entry.message);
          void entry.parsing.finally(() => (entry.parsing = null)).catch(() => {});
        }
        const result = await entry.parsing;
        if (entry.slot === result) return;
        if (this.byId.get(entry.id) === entry) this.keep(entry, result);
        else entry.slot = result; // removed meanwhile: its caller still reads it
      }),
    );
  }

  /**
   * Every message, newest first, that `matches`, each tested right after
   * its parse is at hand; null when the walk took longer than `deadlineMs`.
   * The walk gives the event loop a turn every SLICE_MS, so a search of a
   * large inbox never holds other clients up.
   */
  async filter(
    matches: (e: StoredMessage) => boolean | Promise<boolean>,
    deadlineMs = Infinity,
  ): Promise<StoredMessage[] | null> {
    const out: StoredMessage[] = [];
    const started = performance.now();
    let slice = started;
    for (const e of this.list(0, this.entries.length)) {
      if (!this.byId.has(e.id)) continue; // deleted while the walk waited
      await this.load(e);
      const match = matches(e);
      if (match === true || (match !== false && (await match))) out.push(e);
      const now = performance.now();
      if (now - started > deadlineMs) return null;
      if (now - slice > SLICE_MS) {
        await nextTurn();
        slice = performance.now();
      }
    }
    return out;
  }

  private keep(entry: StoredMessage, result: ParseResult): void {
    entry.slot = result;
    this.unkeep(entry);
    this.withParse.add(entry);
    this.parsedBytes += entry.message.data.length;
    while (this.withParse.size > PARSED_KEPT || (this.parsedBytes > PARSED_KEPT_BYTES && this.withParse.size > 1)) {
      const oldest = this.withParse.values().next().value!;
      this.unkeep(oldest);
      oldest.slot = null;
    }
  }

  /** Takes `entry` out of the parses kept (its slot is left to the caller). */
  private unkeep(entry: StoredMessage): void {
    if (this.withParse.delete(entry)) this.parsedBytes -= entry.message.data.length;
  }

  /** Removes a message: `deleted` through the API, or `pruned` past the bounds (its file is kept then). */
  remove(id: string, reason: 'deleted' | 'pruned' = 'deleted'): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    this.unkeep(entry);
    this.heldBytes -= entry.message.data.length;
    // The oldest goes first when pruning: shift() then, not a search.
    if (this.entries[0] === entry) this.entries.shift();
    else this.entries.splice(this.entries.indexOf(entry), 1);
    const list = entry.mailbox === null ? undefined : this.byMailbox.get(entry.mailbox);
    if (list) {
      if (list[0] === entry) list.shift();
      else list.splice(list.indexOf(entry), 1);
      if (list.length === 0) this.byMailbox.delete(entry.mailbox!);
    }
    this.deletedCount++;
    this.emit('delete', id, reason);
    this.emit('removed', entry, reason);
    return true;
  }

  clear(): void {
    const all = this.entries.splice(0);
    this.deletedCount += all.length;
    this.byId.clear();
    this.byMailbox.clear();
    this.withParse.clear();
    this.parsedBytes = 0;
    this.heldBytes = 0;
    this.emit('truncate');
    for (const entry of all) this.emit('removed', entry, 'cleared');
  }

  setRead(entry: StoredMessage, read: boolean): void {
    if (entry.read === read) return;
    entry.read = read;
    this.emit('update', entry);
  }
}
