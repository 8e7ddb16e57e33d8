/**
 * The inbox's seam: what the HTTP APIs, the event streams and the intake
 * (handlers/inbox.ts) ask of wherever messages are kept, and nothing else.
 * Three backends implement it and pass one contract suite
 * (test/inbox/inbox-contract.test.ts): in memory (memory-inbox.ts), the
 * same with its Maildir read back and kept in step (`--save-dir`,
 * maildir-inbox.ts), and PostgreSQL (`--store`, postgres-store.ts), which
 * serves every list, search, count and read from the database.
 *
 * Events, for the event streams: `new` (a StoredMessage, once added here
 * or by another instance), `update` ({id, read}), `delete` (an id) and
 * `truncate` (everything deleted).
 */
import type { EventEmitter } from 'node:events';
import type { Message } from '../message.js';
import type { Arrival, ParseResult, StoredMessage } from './message-store.js';

export interface InboxCounts {
  readonly total: number;
  readonly unread: number;
}

export interface InboxStats extends InboxCounts {
  /** Messages deleted or pruned since the start. */
  readonly deleted: number;
  /** The mailboxes that hold messages, by name, with their counts. */
  readonly mailboxes: readonly (InboxCounts & { readonly name: string })[];
  /** Every tag some message has, sorted. */
  readonly tags: readonly string[];
  /** The bytes of the messages it holds, where the backend counts them (not the database). */
  readonly bytes?: number;
}

/** A page of the inbox or of a search: its messages, newest first, and the counts of all that matched. */
export interface InboxPage {
  readonly messages: readonly StoredMessage[];
  readonly matched: InboxCounts;
}

/**
 * What a search matches, both ways: as a test of a stored message (whose
 * parse `load` has made), and as a SQL condition on the table's columns
 * (`first`: the number of its first placeholder).
 */
export interface InboxSearch {
  /**
   * Whether the message matches; a promise when it reads megabytes, which a
   * test does in slices with turns of the event loop between them.
   */
  readonly test: (entry: StoredMessage) => boolean | Promise<boolean>;
  readonly sql: (first: number) => { readonly where: string; readonly params: readonly unknown[] };
}

export interface Inbox extends EventEmitter {
  /**
   * Keeps an accepted message, newest; resolves with its entry once kept (a
   * database: committed). The intake calls it before the message's 250.
   */
  add(message: Message, arrival?: Arrival): Promise<StoredMessage>;
  /** The message `id` names, or the newest for `latest`; undefined when there is none. */
  get(id: string): Promise<StoredMessage | undefined>;
  /**
   * Newest first, from `start`, at most `limit`: of every message, or of
   * those `search` matches. Rejects with SearchTimeoutError when a search
   * runs past `deadlineMs` (a database: past its query timeout, 10 s).
   */
  list(start: number, limit: number, search?: InboxSearch, deadlineMs?: number): Promise<InboxPage>;
  /** The IDs of every message `search` matches, newest first (for a change to all of them); as `list` rejects. */
  matching(search: InboxSearch, deadlineMs?: number): Promise<readonly string[]>;
  stats(): Promise<InboxStats>;
  /** Marks these messages (null: all) read or unread. */
  setRead(ids: readonly string[] | null, read: boolean): Promise<void>;
  /** Gives these messages exactly these tags (cleaned; none: no tags). */
  setTags(ids: readonly string[], tags: readonly string[]): Promise<void>;
  /** Renames a tag on every message that has it (any case); a name that cleans to nothing is a no-op. */
  renameTag(from: string, to: string): Promise<void>;
  /** Takes a tag off every message that has it (any case); no message is deleted. */
  deleteTag(tag: string): Promise<void>;
  /** Deletes these messages; IDs of no message are passed over. */
  remove(ids: readonly string[]): Promise<void>;
  /** Deletes every message. */
  clear(): Promise<void>;
  /**
   * A backend that must hold a message before its outputs are written (a
   * database: while it cannot be reached, the client gets 451 and nothing is
   * written) reserves it under a new ID; `add` with that ID then confirms
   * it, and `withdraw` takes it back when the message is not accepted.
   */
  reserve?(message: Message): Promise<string>;
  withdraw?(id: string): Promise<void>;
  /** Makes the entries' parse (`entry.parsed`), with `parser`, unless it is at hand. */
  load(...entries: StoredMessage[]): Promise<void>;
  /** How a message is parsed when first needed (the HTTP server hands large ones to its worker). */
  parser: (message: Message) => Promise<ParseResult>;
  close(): Promise<void>;
}
