/**
 * `--store postgres://...`: the inbox in PostgreSQL, shared by every
 * smtpd-ts instance that names the same database, through `pg` (an
 * optional dependency, loaded only with the flag).
 *
 * The database holds each message (its raw bytes, the envelope and a
 * summary) and is the one truth; each instance's MessageStore is a mirror
 * of its newest messages that its API and web inbox serve. A message is
 * inserted before its 250 (insert() rejects, and the client gets 451,
 * while the database is unreachable: the sender retries, nothing accepted
 * is lost), and the insert's NOTIFY tells every instance (LISTEN), whose
 * mirror and event streams get it at once. Read marks and deletes made
 * through one instance's API are written to the database and told the
 * same way. Retention (`--max-messages`, `--max-age`, a mailbox's bounds)
 * is a periodic DELETE that one instance at a time runs, under an advisory
 * lock. A dropped LISTEN connection is opened again, backing off to 5 s,
 * and the mirror is read again from the database.
 */
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient, Client as PgClient, ClientConfig } from 'pg';
import type { Message } from '../message.js';
import type { RelayRecord } from '../relay/outcome.js';
import type { MailboxLimits } from '../mailboxes.js';
import type { MessageStore, StoredMessage } from './message-store.js';
import { searchSql } from './search.js';
import { INSERTED, insertRow, toMessage, type InsertRow, type Row } from './postgres-row.js';

const TABLE = 'smtpd_ts_messages';
const CHANNEL = 'smtpd_ts';
/** Advisory lock keys: the schema's creation, and retention. */
const SCHEMA_LOCK = 7_356_001;
const RETENTION_LOCK = 7_356_002;
/** How often retention runs, in ms. */
const RETENTION_MS = 10_000;
/** Ids per NOTIFY (a payload is at most 8000 bytes); also the most rows one insert commits. */
const IDS_PER_NOTIFY = 250;
const ROWS_PER_INSERT = 100;
interface Pending {
  readonly row: InsertRow;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  /** Committed alone: its group's commit failed. */
  readonly alone?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  id text PRIMARY KEY,
  received_at timestamptz NOT NULL,
  mailbox text,
  read boolean NOT NULL DEFAULT false,
  size integer NOT NULL,
  mail_from text NOT NULL,
  rcpt_to text[] NOT NULL,
  subject text NOT NULL DEFAULT '',
  from_text text NOT NULL DEFAULT '',
  to_text text NOT NULL DEFAULT '',
  cc_text text NOT NULL DEFAULT '',
  bcc_text text NOT NULL DEFAULT '',
  reply_to_text text NOT NULL DEFAULT '',
  message_id text NOT NULL DEFAULT '',
  attachments integer NOT NULL DEFAULT 0,
  envelope jsonb NOT NULL,
  raw bytea NOT NULL,
  words tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS ${TABLE}_received ON ${TABLE} (received_at DESC);
CREATE INDEX IF NOT EXISTS ${TABLE}_mailbox ON ${TABLE} (mailbox, received_at DESC);
`;

/** What another instance did, as NOTIFY carries it. */
type Change =
  | { readonly op: 'new'; readonly ids: readonly string[] }
  | { readonly op: 'read'; readonly ids: readonly string[]; readonly read: boolean }
  | { readonly op: 'delete' | 'prune'; readonly ids: readonly string[] }
  | { readonly op: 'clear' };

export interface PostgresOptions {
  readonly url: string;
  readonly store: MessageStore;
  readonly log: NodeJS.WritableStream;
  readonly maxMessages: number;
  readonly maxAgeMs: number;
  readonly mailboxLimits: ReadonlyMap<string, MailboxLimits>;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the --store URL';
  }
}

const COLUMNS = 'id, received_at, mailbox, read, mail_from, rcpt_to, envelope, raw';

export class PostgresInbox {
  /** Tells this instance's NOTIFYs from the others'. */
  private readonly instance = randomBytes(8).toString('hex');
  private listener: PgClient | null = null;
  private retention: NodeJS.Timeout | undefined;
  /** A retention pass due soon after inserts. */
  private retainSoon: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private backoff = 250;
  private closed = false;
  /** When retention last ran (it also runs after inserts, at most once a second, so a busy sink stays bounded). */
  private retainedAt = 0;
  /** Inserts waiting for the commit under way. */
  private readonly pending: Pending[] = [];
  private inserting = false;
  /** True while a change that came from the database is applied to the mirror (so it is not written back). */
  private applying = false;

  private constructor(
    private readonly pool: Pool,
    private readonly newClient: (config: ClientConfig) => PgClient,
    private readonly options: PostgresOptions,
  ) {}

  /** Connects, creates the table where missing, fills the mirror, and follows the other instances. */
  static async open(options: PostgresOptions): Promise<PostgresInbox> {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 8,
      connectionTimeoutMillis: 3000,
      query_timeout: 10_000,
      idleTimeoutMillis: 10_000,
    });
    // A server that goes away takes idle clients with it: each says so here, and the pool makes new ones.
    pool.on('error', () => {});
    const inbox = new PostgresInbox(pool, (config) => new pg.Client(config), options);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await client.query(SCHEMA);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await inbox.listen();
      await inbox.resync();
    } catch (err) {
      await inbox.close();
      throw err;
    }
    inbox.followLocalChanges();
    inbox.retention = setInterval(() => void inbox.retain(), RETENTION_MS).unref();
    void inbox.retain();
    return inbox;
  }

  /**
   * Inserts an accepted message under `id` (committed when this resolves)
   * and tells the other instances. Rejects when the database cannot be
   * reached or refuses: the caller answers 451.
   */
  async insert(id: string, message: Message, relay: RelayRecord | null = null): Promise<void> {
    const row = await insertRow(id, message, relay);
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      if (!this.inserting) void this.flush();
    });
    this.scheduleRetain();
  }

  /**
   * Commits what waits, up to ROWS_PER_INSERT rows in one statement with
   * their NOTIFY, and again while more waits: the messages that arrive
   * while one commit is under way share the next (group commit), so a
   * busy sink pays one round trip and one WAL flush for many messages.
   */
  private async flush(): Promise<void> {
    this.inserting = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending[0]?.alone ? this.pending.splice(0, 1) : this.pending.splice(0, ROWS_PER_INSERT);
        const params: unknown[] = [];
        const tuples = batch.map(({ row }) => {
          const at = params.length;
          params.push(...row);
          const p = INSERTED.map((column, i) =>
            column === 'words' ? `to_tsvector('simple', $${at + i + 1})` : `$${at + i + 1}`,
          );
          return `(${p.join(', ')})`;
        });
        params.push(this.payload({ op: 'new', ids: batch.map(({ row }) => row[0] as string) }));
        try {
          // One statement: the rows and their NOTIFY are committed together.
          await this.pool.query(
            `WITH rows AS (INSERT INTO ${TABLE} (${INSERTED.join(', ')}) VALUES ${tuples.join(', ')} RETURNING id)
             SELECT pg_notify('${CHANNEL}', $${params.length}), (SELECT count(*) FROM rows)`,
            params,
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          // One row the database refuses must not fail the others that shared its commit: each alone again.
          // (Unreachable, they all fail again, each with its own error.)
          if (batch.length === 1) batch[0]!.reject(err as Error);
          else this.pending.unshift(...batch.map((p) => ({ ...p, alone: true })));
        }
      }
    } finally {
      this.inserting = false;
    }
  }

  /**
   * The ids a Mailpit search matches, newest first, by SQL (src/store/search.ts's
   * searchSql), within the messages the mirror holds.
   */
  async search(query: string): Promise<string[]> {
    const { where, params } = searchSql(query);
    const limit = this.options.store.maxMessages > 0 ? this.options.store.maxMessages : null;
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM ${TABLE} WHERE ${where} ORDER BY received_at DESC, id DESC LIMIT $${params.length + 1}`,
      [...params, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Removes a row whose message was not accepted after all (an output failed after the insert). */
  async withdraw(id: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${TABLE} WHERE id = $1`, [id]).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retention);
    clearTimeout(this.retainSoon);
    clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  private payload(change: Change): string {
    return JSON.stringify({ ...change, from: this.instance });
  }

  private async notify(change: Change): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, this.payload(change)]);
  }

  /** Opens the LISTEN connection; when it drops, opens it again and reads the mirror again. */
  private async listen(): Promise<void> {
    const client = this.newClient({ connectionString: this.options.url, connectionTimeoutMillis: 3000 });
    const lost = (): void => {
      if (this.listener !== client || this.closed) return;
      this.listener = null;
      this.options.log.write(`smtpd-ts: --store: lost the database connection; reconnecting\n`);
      this.retry();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload) void this.apply(n.payload);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    this.backoff = 250;
  }

  private retry(): void {
    if (this.closed) return;
    this.reconnect = setTimeout(() => {
      this.listen()
        .then(() => this.resync())
        .then(() => this.options.log.write('smtpd-ts: --store: connected to the database again\n'))
        .catch(() => {
          this.backoff = Math.min(this.backoff * 2, 5000);
          this.listener = null;
          this.retry();
        });
    }, this.backoff);
    this.reconnect.unref();
  }

  /** Applies another instance's change to the mirror. */
  private async apply(payload: string): Promise<void> {
    let change: Change & { from?: string };
    try {
      change = JSON.parse(payload) as Change & { from?: string };
    } catch {
      return;
    }
    if (change.from === this.instance) return;
    const store = this.options.store;
    if (change.op === 'new') return this.mirror(change.ids).catch(() => {});
    this.fromDatabase(() => {
      if (change.op === 'clear') store.clear();
      else if (change.op === 'read')
        for (const id of change.ids) {
          const e = store.get(id);
          if (e) store.setRead(e, change.read);
        }
      else for (const id of change.ids) store.remove(id, change.op === 'prune' ? 'pruned' : 'deleted');
    });
  }

  /** Changes the mirror as the database says, without writing the change back (followLocalChanges). */
  private fromDatabase(change: () => void): void {
    this.applying = true;
    try {
      change();
    } finally {
      this.applying = false;
    }
  }

  /** Reads these rows into the mirror, oldest first (those it has already are left). */
  private async mirror(ids: readonly string[]): Promise<void> {
    const store = this.options.store;
    for (let i = 0; i < ids.length; i += 500) {
      const { rows } = await this.pool.query<Row>(
        `SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ANY($1) ORDER BY received_at, id`,
        [ids.slice(i, i + 500)],
      );
      this.fromDatabase(() => {
        for (const row of rows) {
          if (store.get(row.id)) continue;
          const entry = store.add(toMessage(row), { relay: row.envelope.relay ?? null, id: row.id });
          if (row.read) store.setRead(entry, true);
        }
      });
    }
  }

  /** Reads the newest messages into the mirror: adds what it lacks, drops what the database no longer has. */
  private async resync(): Promise<void> {
    const store = this.options.store;
    const limit = store.maxMessages > 0 ? store.maxMessages : null;
    const { rows } = await this.pool.query<{ id: string; read: boolean }>(
      `SELECT id, read FROM ${TABLE} ORDER BY received_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    const wanted = new Map(rows.map((r) => [r.id, r.read]));
    this.fromDatabase(() => {
      for (const entry of store.list(0, store.size)) {
        const read = wanted.get(entry.id);
        if (read === undefined) store.remove(entry.id, 'pruned');
        else store.setRead(entry, read);
      }
    });
    await this.mirror(rows.filter((r) => !store.get(r.id)).map((r) => r.id));
  }

  /** What this instance's API changes in the mirror goes to the database and the other instances. */
  private followLocalChanges(): void {
    const store = this.options.store;
    const failed = (what: string) => (err: Error) =>
      this.options.log.write(`smtpd-ts: --store: cannot ${what} in the database: ${err.message}\n`);
    store.on('update', (e: StoredMessage) => {
      if (this.applying) return;
      this.pool
        .query(`UPDATE ${TABLE} SET read = $2 WHERE id = $1`, [e.id, e.read])
        .then(() => this.notify({ op: 'read', ids: [e.id], read: e.read }))
        .catch(failed('mark a message read'));
    });
    store.on('removed', (e: StoredMessage, reason: 'deleted' | 'pruned' | 'cleared') => {
      // The mirror's own bound drops messages from the mirror only; retention is the database's.
      if (this.applying || reason !== 'deleted') return;
      this.pool
        .query(`DELETE FROM ${TABLE} WHERE id = $1`, [e.id])
        .then(() => this.notify({ op: 'delete', ids: [e.id] }))
        .catch(failed('delete a message'));
    });
    store.on('truncate', () => {
      if (this.applying) return;
      this.pool
        .query(`DELETE FROM ${TABLE}`)
        .then(() => this.notify({ op: 'clear' }))
        .catch(failed('delete the messages'));
    });
  }

  /** After inserts: a pass at most once a second, so that a busy sink's table stays near its bounds. */
  private scheduleRetain(): void {
    if (this.retainSoon !== undefined || this.closed) return;
    const wait = Math.max(0, 1000 - (Date.now() - this.retainedAt));
    this.retainSoon = setTimeout(() => {
      this.retainSoon = undefined;
      void this.retain();
    }, wait);
    this.retainSoon.unref();
  }

  /** One retention pass, by whichever instance holds the lock; the others skip it. */
  private async retain(): Promise<void> {
    const { maxMessages, maxAgeMs, mailboxLimits } = this.options;
    if (maxMessages <= 0 && maxAgeMs <= 0 && mailboxLimits.size === 0) return;
    this.retainedAt = Date.now();
    let client: PoolClient | null = null;
    try {
      client = await this.pool.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        RETENTION_LOCK,
      ]);
      if (!rows[0]?.locked) return;
      try {
        const pruned: string[] = [];
        const run = async (sql: string, params: unknown[]) =>
          pruned.push(...(await client!.query<{ id: string }>(sql, params)).rows.map((r) => r.id));
        if (maxMessages > 0)
          await run(
            `DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} ORDER BY received_at DESC, id DESC OFFSET $1) RETURNING id`,
            [maxMessages],
          );
        if (maxAgeMs > 0)
          await run(`DELETE FROM ${TABLE} WHERE received_at < now() - $1 * interval '1 millisecond' RETURNING id`, [
            maxAgeMs,
          ]);
        for (const [name, limits] of mailboxLimits) {
          if (limits.maxMessages !== undefined)
            await run(
              `DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE mailbox = $1 ORDER BY received_at DESC, id DESC OFFSET $2) RETURNING id`,
              [name, limits.maxMessages],
            );
          if (limits.maxAgeMs !== undefined)
            await run(
              `DELETE FROM ${TABLE} WHERE mailbox = $1 AND received_at < now() - $2 * interval '1 millisecond' RETURNING id`,
              [name, limits.maxAgeMs],
            );
        }
        for (let i = 0; i < pruned.length; i += IDS_PER_NOTIFY) {
          const ids = pruned.slice(i, i + IDS_PER_NOTIFY);
          await client.query('SELECT pg_notify($1, $2)', [CHANNEL, this.payload({ op: 'prune', ids })]);
          this.fromDatabase(() => {
            for (const id of ids) this.options.store.remove(id, 'pruned');
          });
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK]);
      }
    } catch {
      // The database is away: the next pass tries again.
    } finally {
      client?.release();
    }
  }
}
