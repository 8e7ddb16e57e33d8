/**
 * `--store postgres://...`: the inbox in PostgreSQL (inbox.ts's seam),
 * shared by every smtpd-ts instance that names the same database. The
 * table (postgres-table.ts) is the one truth, and every list, search,
 * count and read is a query: an instance holds no copy of the table, only
 * a bounded cache of the messages it read last (CACHE_ENTRIES,
 * CACHE_BYTES), so instances add capacity as well as availability.
 *
 * A message is inserted before its 250: the intake's database handler
 * reserves its row before any output is written (handlers/database.ts;
 * while the database is unreachable the client gets 451 and retries,
 * nothing accepted is lost) and `add` confirms it. The insert's NOTIFY tells
 * every instance, whose event streams say `new`; read marks and deletes
 * are told the same way.
 */
import { EventEmitter } from 'node:events';
import { SearchTimeoutError } from '../errors.js';
import type { Message } from '../message.js';
import type { Inbox, InboxPage, InboxSearch, InboxStats } from './inbox.js';
import { newId, parseStored, StoredMessage, type Arrival, type ParseResult } from './message-store.js';
import { insertRow, jsonb, toMessage, type Row } from './postgres-row.js';
import { cleanTag, tagList } from './tags.js';
import { COUNTS, PostgresTable, TABLE, type Change, type TableOptions } from './postgres-table.js';

export { redactUrl } from './postgres-table.js';

/** The messages an instance keeps at hand after reading them, at most; and their bytes. */
export const CACHE_ENTRIES = 1000;
export const CACHE_BYTES = 64 * 1024 * 1024;

const COLUMNS = 'id, received_at, mailbox, read, mail_from, rcpt_to, envelope, raw, brief, tags';
const NEWEST = 'ORDER BY received_at DESC, id DESC';

export type PostgresOptions = Omit<TableOptions, 'changed'>;

export class PostgresInbox extends EventEmitter implements Inbox {
  parser: (message: Message) => Promise<ParseResult> = parseStored;
  /** The messages read last, least recently used first. */
  private readonly cache = new Map<string, StoredMessage>();
  private cachedBytes = 0;
  /** Rows inserted before their outputs were written, that `add` confirms or `withdraw` takes back. */
  private readonly reserved = new Set<string>();
  /** Messages deleted or pruned since the start, as this instance heard of them. */
  private deleted = 0;
  private table!: PostgresTable;

  private constructor() {
    super();
  }

  /** Connects and creates the table where missing; rejects when the database cannot be used. */
  static async open(options: PostgresOptions): Promise<PostgresInbox> {
    const inbox = new PostgresInbox();
    inbox.table = await PostgresTable.open({ ...options, changed: (change) => inbox.changed(change) });
    return inbox;
  }

  private query<R extends object>(sql: string, params: readonly unknown[] = []) {
    return this.table.pool.query<R>(sql, params as unknown[]);
  }

  /**
   * Inserts `message` under a new ID before its outputs are written;
   * rejects when the database cannot be reached or refuses (the client gets 451).
   */
  async reserve(message: Message): Promise<string> {
    const id = newId();
    await this.table.insert(await insertRow(id, message, null));
    this.reserved.add(id);
    return id;
  }

  /** Takes back a reserved row whose message was not accepted after all. */
  async withdraw(id: string): Promise<void> {
    this.reserved.delete(id);
    await this.query(`DELETE FROM ${TABLE} WHERE id = $1`, [id]).catch(() => {});
    await this.table.notify({ op: 'prune', ids: [id] }).catch(() => {});
  }

  async add(message: Message, arrival: Arrival = {}): Promise<StoredMessage> {
    const id = arrival.id ?? message.inboxId ?? newId();
    const relay = arrival.relay ?? null;
    const brief = arrival.brief ?? null;
    const tags = arrival.tags ?? [];
    if (!this.reserved.delete(id)) await this.table.insert(await insertRow(id, message, relay, brief, tags));
    else if (relay !== null || brief !== null || tags.length > 0)
      // What came after the row was reserved: the relay's outcome, a large message's brief, its tags.
      await this.query(
        `UPDATE ${TABLE} SET envelope = jsonb_set(envelope, '{relay}', $2::jsonb), brief = $3, tags = $4 WHERE id = $1`,
        [id, jsonb(relay), brief === null ? null : jsonb(brief), tags],
      );
    const entry = new StoredMessage(id, message, arrival.file ?? null, relay, brief);
    entry.tags = tags;
    if (arrival.parse) entry.slot = arrival.parse;
    this.remember(entry);
    this.emit('new', entry);
    return entry;
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    if (id !== 'latest') {
      const cached = this.cache.get(id);
      if (cached) return this.remember(cached);
    }
    const where = id === 'latest' ? `true ${NEWEST} LIMIT 1` : 'id = $1';
    const { rows } = await this.query<Row>(
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE ${where}`,
      id === 'latest' ? [] : [id],
    );
    return rows[0] ? this.entry(rows[0]) : undefined;
  }

  async list(start: number, limit: number, search?: InboxSearch): Promise<InboxPage> {
    const { where, params } = search ? search.sql(1) : { where: 'true', params: [] };
    const n = params.length;
    // The whole inbox's counts are kept by the table's triggers; a search's are counted.
    const counting = search
      ? `SELECT count(*)::int AS total, (count(*) FILTER (WHERE NOT read))::int AS unread FROM ${TABLE} WHERE ${where}`
      : `SELECT coalesce(sum(total), 0)::int AS total, coalesce(sum(unread), 0)::int AS unread FROM ${COUNTS}`;
    const [page, counts] = await this.searching(search !== undefined, () =>
      Promise.all([
        this.query<{ id: string; read: boolean }>(
          `SELECT id, read FROM ${TABLE} WHERE ${where} ${NEWEST} OFFSET $${n + 1} LIMIT $${n + 2}`,
          [...params, start, limit],
        ),
        this.query<{ total: number; unread: number }>(counting, search ? params : []),
      ]),
    );
    const messages = await this.entries(page.rows.map((r) => r.id));
    const read = new Map(page.rows.map((r) => [r.id, r.read]));
    for (const e of messages) e.read = read.get(e.id) ?? e.read;
    return { messages, matched: counts.rows[0] ?? { total: 0, unread: 0 } };
  }

  async matching(search: InboxSearch): Promise<readonly string[]> {
    const { where, params } = search.sql(1);
    const { rows } = await this.searching(true, () =>
      this.query<{ id: string }>(`SELECT id FROM ${TABLE} WHERE ${where} ${NEWEST}`, params),
    );
    return rows.map((r) => r.id);
  }

  async stats(): Promise<InboxStats> {
    const { rows } = await this.query<{ mailbox: string; total: number; unread: number }>(
      `SELECT mailbox, total::int, unread::int FROM ${COUNTS} WHERE total > 0 ORDER BY mailbox`,
    );
    return {
      total: rows.reduce((n, r) => n + r.total, 0),
      unread: rows.reduce((n, r) => n + r.unread, 0),
      deleted: this.deleted,
      mailboxes: rows.flatMap((r) => (r.mailbox === '' ? [] : [{ name: r.mailbox, total: r.total, unread: r.unread }])),
      // Read through the index of tagged rows only: an untagged table costs nothing here.
      tags: tagList(
        (
          await this.query<{ tag: string }>(
            `SELECT DISTINCT unnest(tags) AS tag FROM ${TABLE} WHERE cardinality(tags) > 0`,
          )
        ).rows.map((r) => r.tag),
      ),
    };
  }

  async setTags(ids: readonly string[], tags: readonly string[]): Promise<void> {
    const clean = tagList(tags);
    const { rows } = await this.query<{ id: string }>(`UPDATE ${TABLE} SET tags = $2 WHERE id = ANY($1) RETURNING id`, [
      ids,
      clean,
    ]);
    for (const { id } of rows) {
      const e = this.cache.get(id);
      if (e) e.tags = clean;
    }
    await this.table.notify({ op: 'tags', ids: rows.map((r) => r.id) });
  }

  async renameTag(from: string, to: string): Promise<void> {
    const old = cleanTag(from);
    if (old === '' || cleanTag(to) === '') return;
    await this.retag(old, (tags) => tagList(tags.map((t) => (t.toLowerCase() === old.toLowerCase() ? to : t))));
  }

  async deleteTag(tag: string): Promise<void> {
    const old = cleanTag(tag);
    await this.retag(old, (tags) => tags.filter((t) => t.toLowerCase() !== old.toLowerCase()));
  }

  /** Changes the tags of every message that has `tag` (any case) as `change` says. */
  private async retag(tag: string, change: (tags: readonly string[]) => string[]): Promise<void> {
    const { rows } = await this.query<{ id: string; tags: string[] }>(
      `SELECT id, tags FROM ${TABLE} WHERE cardinality(tags) > 0 AND EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = lower($1))`,
      [tag],
    );
    for (const row of rows) {
      const tags = change(row.tags);
      await this.query(`UPDATE ${TABLE} SET tags = $2 WHERE id = $1`, [row.id, tags]);
      const e = this.cache.get(row.id);
      if (e) e.tags = tags;
    }
    await this.table.notify({ op: 'tags', ids: rows.map((r) => r.id) });
  }

  async setRead(ids: readonly string[] | null, read: boolean): Promise<void> {
    const { rows } = await this.query<{ id: string }>(
      `UPDATE ${TABLE} SET read = $1 WHERE read <> $1 AND ($2::text[] IS NULL OR id = ANY($2)) RETURNING id`,
      [read, ids],
    );
    const changed = rows.map((r) => r.id);
    this.changedHere({ op: 'read', ids: changed, read });
    await this.table.notify({ op: 'read', ids: changed, read });
  }

  async remove(ids: readonly string[]): Promise<void> {
    const { rows } = await this.query<{ id: string }>(`DELETE FROM ${TABLE} WHERE id = ANY($1) RETURNING id`, [ids]);
    const gone = rows.map((r) => r.id);
    this.changedHere({ op: 'delete', ids: gone });
    await this.table.notify({ op: 'delete', ids: gone });
  }

  async clear(): Promise<void> {
    const { rowCount } = await this.query(`DELETE FROM ${TABLE}`);
    this.deleted += rowCount ?? 0;
    this.changedHere({ op: 'clear' });
    await this.table.notify({ op: 'clear' });
  }

  async load(...entries: StoredMessage[]): Promise<void> {
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.slot) return;
        entry.parsing ??= this.parser(entry.message).finally(() => (entry.parsing = null));
        entry.slot = await entry.parsing;
      }),
    );
  }

  close(): Promise<void> {
    return this.table.close();
  }

  /** Runs a query of a search: one past the pool's query timeout is a SearchTimeoutError. */
  private async searching<T>(search: boolean, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (search && /timeout/i.test((err as Error).message))
        throw new SearchTimeoutError('the search took too long; narrow it');
      throw err;
    }
  }

  /** The entries of these IDs, in their order: from the cache, the rest read in one query. */
  private async entries(ids: readonly string[]): Promise<StoredMessage[]> {
    const missing = ids.filter((id) => !this.cache.has(id));
    if (missing.length > 0) {
      const { rows } = await this.query<Row>(`SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ANY($1)`, [missing]);
      for (const row of rows) this.entry(row);
    }
    return ids.flatMap((id) => {
      const e = this.cache.get(id);
      return e ? [e] : []; // deleted meanwhile
    });
  }

  /** A row as a stored message, kept in the cache. */
  private entry(row: Row): StoredMessage {
    const entry = new StoredMessage(row.id, toMessage(row), null, row.envelope.relay ?? null, row.brief);
    entry.read = row.read;
    entry.tags = row.tags;
    return this.remember(entry);
  }

  /** Puts `entry` in the cache as the most recently used, and drops the least recently used past the bounds. */
  private remember(entry: StoredMessage): StoredMessage {
    this.forget(entry.id);
    this.cache.set(entry.id, entry);
    this.cachedBytes += entry.message.data.length;
    for (const [id, oldest] of this.cache) {
      if (this.cache.size <= CACHE_ENTRIES && (this.cachedBytes <= CACHE_BYTES || oldest === entry)) break;
      this.forget(id);
    }
    return entry;
  }

  private forget(id: string): void {
    const e = this.cache.get(id);
    if (!e) return;
    this.cache.delete(id);
    this.cachedBytes -= e.message.data.length;
  }

  /** Another instance's change, or retention's: the cache follows, and the event streams are told. */
  private changed(change: Change | { readonly op: 'resync' }): void {
    if (change.op === 'resync') {
      // Changes may have been missed while the connection was down: what is cached is read again.
      this.cache.clear();
      this.cachedBytes = 0;
    } else if (change.op === 'new') {
      if (this.listenerCount('new') === 0) return;
      void this.entries(change.ids)
        .then((entries) => entries.forEach((e) => this.emit('new', e)))
        .catch(() => {});
    } else this.changedHere(change);
  }

  /** A change made (here, or told by another instance) to the cache and the event streams. */
  private changedHere(change: Exclude<Change, { op: 'new' }>): void {
    switch (change.op) {
      case 'clear':
        this.cache.clear();
        this.cachedBytes = 0;
        this.emit('truncate');
        return;
      case 'read':
        for (const id of change.ids) {
          const e = this.cache.get(id);
          if (e) e.read = change.read;
          this.emit('update', { id, read: change.read });
        }
        return;
      case 'tags':
        // Read again when next asked.
        for (const id of change.ids) this.forget(id);
        return;
      case 'delete':
      case 'prune':
        for (const id of change.ids) {
          this.forget(id);
          this.deleted++;
          this.emit('delete', id, change.op === 'prune' ? 'pruned' : 'deleted');
        }
        return;
      default: {
        const unknown: never = change;
        return unknown;
      }
    }
  }
}
