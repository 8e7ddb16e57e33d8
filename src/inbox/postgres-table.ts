/**
 * `--store`'s table and its connections (postgres-store.ts serves the
 * inbox from it): the schema, made once under an advisory lock; inserts,
 * committed in groups with the NOTIFY that tells every instance; the
 * LISTEN connection, opened again (backing off to 5 s) when it drops; and
 * retention (`--max-messages`, `--max-age`, a mailbox's bounds), a periodic
 * DELETE that one instance at a time runs. `pg` is an optional dependency,
 * loaded only here.
 */
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient, Client as PgClient, ClientConfig } from 'pg';
import type { MailboxLimits } from '../mailboxes.js';
import { INSERTED, type InsertRow } from './postgres-row.js';

export const TABLE = 'smtpd_ts_messages';
const CHANNEL = 'smtpd_ts';
/** Advisory lock keys: the schema's creation, and retention. */
const SCHEMA_LOCK = 7_356_001;
const RETENTION_LOCK = 7_356_002;
/** How often retention runs, in ms. */
const RETENTION_MS = 10_000;
/** Ids per NOTIFY (a payload is at most 8000 bytes); also the most rows one insert commits. */
export const IDS_PER_NOTIFY = 250;
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
ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS brief jsonb;
ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS tags text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS ${TABLE}_tagged ON ${TABLE} (id) WHERE cardinality(tags) > 0;
CREATE INDEX IF NOT EXISTS ${TABLE}_newest ON ${TABLE} (received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ${TABLE}_mailbox ON ${TABLE} (mailbox, received_at DESC);
`;

export const COUNTS = 'smtpd_ts_counts';

/**
 * The counts a list answers with (total and unread, by mailbox; '' for
 * none), kept by statement triggers as rows come and go and change their
 * mark, so that no list counts the table (at 100,000 rows a count took
 * 30 ms a page). Each statement's changes go in mailbox order, so that two
 * commits never lock the same counts in opposite orders.
 */
const COUNTING = `
CREATE TABLE ${COUNTS} (mailbox text PRIMARY KEY, total bigint NOT NULL, unread bigint NOT NULL);
INSERT INTO ${COUNTS} SELECT coalesce(mailbox, ''), count(*), count(*) FILTER (WHERE NOT read) FROM ${TABLE} GROUP BY 1;
CREATE FUNCTION ${COUNTS}_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO ${COUNTS} SELECT coalesce(mailbox, ''), count(*), count(*) FILTER (WHERE NOT read) FROM changed GROUP BY 1 ORDER BY 1
  ON CONFLICT (mailbox) DO UPDATE SET total = ${COUNTS}.total + excluded.total, unread = ${COUNTS}.unread + excluded.unread;
  RETURN NULL; END $$;
CREATE FUNCTION ${COUNTS}_remove() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO ${COUNTS} SELECT coalesce(mailbox, ''), -count(*), -count(*) FILTER (WHERE NOT read) FROM changed GROUP BY 1 ORDER BY 1
  ON CONFLICT (mailbox) DO UPDATE SET total = ${COUNTS}.total + excluded.total, unread = ${COUNTS}.unread + excluded.unread;
  RETURN NULL; END $$;
CREATE FUNCTION ${COUNTS}_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO ${COUNTS} SELECT coalesce(n.mailbox, ''), 0, sum((NOT n.read)::int - (NOT o.read)::int)
    FROM changed n JOIN before o USING (id) GROUP BY 1 ORDER BY 1
  ON CONFLICT (mailbox) DO UPDATE SET unread = ${COUNTS}.unread + excluded.unread;
  RETURN NULL; END $$;
CREATE FUNCTION ${COUNTS}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  DELETE FROM ${COUNTS}; RETURN NULL; END $$;
CREATE TRIGGER ${COUNTS}_add AFTER INSERT ON ${TABLE} REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTS}_add();
CREATE TRIGGER ${COUNTS}_remove AFTER DELETE ON ${TABLE} REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTS}_remove();
CREATE TRIGGER ${COUNTS}_mark AFTER UPDATE ON ${TABLE} REFERENCING OLD TABLE AS before NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTS}_mark();
CREATE TRIGGER ${COUNTS}_truncate AFTER TRUNCATE ON ${TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTS}_truncate();
`;

/** A change to the table, as NOTIFY carries it to every instance. */
export type Change =
  | { readonly op: 'new'; readonly ids: readonly string[] }
  | { readonly op: 'read'; readonly ids: readonly string[]; readonly read: boolean }
  | { readonly op: 'delete' | 'prune'; readonly ids: readonly string[] }
  /** Tags changed on these messages; none named: on any. */
  | { readonly op: 'tags'; readonly ids: readonly string[] }
  | { readonly op: 'clear' };

export interface TableOptions {
  readonly url: string;
  readonly log: NodeJS.WritableStream;
  readonly maxMessages: number;
  readonly maxAgeMs: number;
  readonly mailboxLimits: ReadonlyMap<string, MailboxLimits>;
  /** Told every change another instance made, every prune, and (`resync`) that changes may have been missed. */
  readonly changed: (change: Change | { readonly op: 'resync' }) => void;
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

export class PostgresTable {
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

  private constructor(
    readonly pool: Pool,
    private readonly newClient: (config: ClientConfig) => PgClient,
    private readonly options: TableOptions,
  ) {}

  /** Connects, creates the table where missing, and follows the other instances. */
  static async open(options: TableOptions): Promise<PostgresTable> {
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
    const table = new PostgresTable(pool, (config) => new pg.Client(config), options);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await client.query(SCHEMA);
        // Made once, with the counts of what the table already holds (made before the counts were kept).
        const { rows } = await client.query<{ missing: boolean }>('SELECT to_regclass($1) IS NULL AS missing', [
          COUNTS,
        ]);
        if (rows[0]?.missing) await client.query(COUNTING);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await table.listen();
    } catch (err) {
      await table.close();
      throw err;
    }
    table.retention = setInterval(() => void table.retain(), RETENTION_MS).unref();
    void table.retain();
    return table;
  }

  /**
   * Inserts a row (committed when this resolves) and tells the other
   * instances. Rejects when the database cannot be reached or refuses.
   */
  async insert(row: InsertRow): Promise<void> {
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

  /** Tells the other instances what this one changed (in pieces of IDS_PER_NOTIFY ids). */
  async notify(change: Change): Promise<void> {
    const ids = 'ids' in change ? change.ids : [];
    for (let i = 0; i === 0 || i < ids.length; i += IDS_PER_NOTIFY) {
      const piece = 'ids' in change ? { ...change, ids: ids.slice(i, i + IDS_PER_NOTIFY) } : change;
      await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, this.payload(piece)]);
    }
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

  private changed(change: Change | { readonly op: 'resync' }): void {
    this.options.changed(change);
  }

  /** Opens the LISTEN connection; when it drops, opens it again (and says `resync`: changes may have been missed). */
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
      if (n.channel === CHANNEL && n.payload) this.received(n.payload);
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
        .then(() => {
          this.changed({ op: 'resync' });
          this.options.log.write('smtpd-ts: --store: connected to the database again\n');
        })
        .catch(() => {
          this.backoff = Math.min(this.backoff * 2, 5000);
          this.listener = null;
          this.retry();
        });
    }, this.backoff);
    this.reconnect.unref();
  }

  /** Another instance's change, as its NOTIFY says it. */
  private received(payload: string): void {
    let change: Change & { from?: string };
    try {
      change = JSON.parse(payload) as Change & { from?: string };
    } catch {
      return;
    }
    if (change.from !== this.instance) this.changed(change);
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
          this.changed({ op: 'prune', ids });
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
