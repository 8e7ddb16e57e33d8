/**
 * The inbox in memory (inbox.ts's seam over message-store.ts): bounded
 * by count, bytes and age, lost at exit. What the store does synchronously
 * is answered at once; a search walks the store in slices.
 */
import { EventEmitter } from 'node:events';
import { SearchTimeoutError } from '../errors.js';
import type { Message } from '../message.js';
import type { Inbox, InboxPage, InboxSearch, InboxStats } from './inbox.js';
import { cleanTag, tagList } from './tags.js';
import { MessageStore, type Arrival, type ParseResult, type StoredMessage, type StoreLimits } from './message-store.js';

export class MemoryInbox extends EventEmitter implements Inbox {
  readonly store: MessageStore;

  constructor(limits: StoreLimits | MessageStore = {}) {
    super();
    this.store = limits instanceof MessageStore ? limits : new MessageStore(limits);
    for (const event of ['new', 'update', 'delete', 'truncate'])
      this.store.on(event, (...args: unknown[]) => this.emit(event, ...args));
  }

  get parser(): (message: Message) => Promise<ParseResult> {
    return this.store.parser;
  }

  set parser(parse: (message: Message) => Promise<ParseResult>) {
    this.store.parser = parse;
  }

  async add(message: Message, arrival: Arrival = {}): Promise<StoredMessage> {
    return this.store.add(message, arrival);
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    return this.store.get(id);
  }

  async list(start: number, limit: number, search?: InboxSearch, deadlineMs = Infinity): Promise<InboxPage> {
    const store = this.store;
    if (!search) return { messages: store.list(start, limit), matched: { total: store.size, unread: store.unread } };
    const found = await store.filter(search.test, deadlineMs);
    if (found === null) throw new SearchTimeoutError(`the search took longer than ${deadlineMs} ms; narrow it`);
    return {
      messages: found.slice(start, start + limit),
      matched: { total: found.length, unread: found.filter((e) => !e.read).length },
    };
  }

  async matching(search: InboxSearch, deadlineMs = Infinity): Promise<readonly string[]> {
    return (await this.list(0, Number.MAX_SAFE_INTEGER, search, deadlineMs)).messages.map((e) => e.id);
  }

  async stats(): Promise<InboxStats> {
    const store = this.store;
    const tags = tagList(store.list(0, store.size).flatMap((e) => e.tags));
    const { size: total, unread, deletedCount: deleted, heldBytes: bytes } = store;
    return { total, unread, deleted, mailboxes: store.mailboxes(), tags, bytes };
  }

  async setTags(ids: readonly string[], tags: readonly string[]): Promise<void> {
    const clean = tagList(tags);
    for (const id of ids) {
      const e = this.store.get(id);
      if (e) e.tags = clean;
    }
  }

  async renameTag(from: string, to: string): Promise<void> {
    const old = cleanTag(from).toLowerCase();
    if (old === '' || cleanTag(to) === '') return;
    for (const e of this.store.list(0, this.store.size))
      if (e.tags.some((t) => t.toLowerCase() === old))
        e.tags = tagList(e.tags.map((t) => (t.toLowerCase() === old ? to : t)));
  }

  async deleteTag(tag: string): Promise<void> {
    const old = cleanTag(tag).toLowerCase();
    for (const e of this.store.list(0, this.store.size))
      if (e.tags.some((t) => t.toLowerCase() === old)) e.tags = e.tags.filter((t) => t.toLowerCase() !== old);
  }

  async setRead(ids: readonly string[] | null, read: boolean): Promise<void> {
    const store = this.store;
    const entries = ids === null ? store.list(0, store.size) : ids.map((id) => store.get(id));
    for (const e of entries) if (e) store.setRead(e, read);
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.store.remove(id);
  }

  async clear(): Promise<void> {
    this.store.clear();
  }

  load(...entries: StoredMessage[]): Promise<void> {
    return this.store.load(...entries);
  }

  async close(): Promise<void> {}
}
