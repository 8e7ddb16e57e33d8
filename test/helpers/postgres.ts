/**
 * A throw-away PostgreSQL cluster for a test file: Debian's binaries
 * (`apt-get install postgresql`), `initdb` into a temporary folder, the
 * server on a free loopback port with its socket in that folder, removed
 * after. As root the cluster runs as the `postgres` user (or `nobody`):
 * PostgreSQL refuses to run as root. Tests skip with PG_SKIP where the
 * binaries are missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? path.join(root, versions[0]!, 'bin') : null;
}

const BIN = binDir();

/** Why the PostgreSQL tests skip, or false when the binaries are there. */
export const PG_SKIP: string | false = BIN ? false : 'PostgreSQL is not installed (apt-get install postgresql)';

/** The user the cluster runs as: this one, or `postgres`/`nobody` when root. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0) return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root, and neither postgres nor nobody exists to run PostgreSQL as');
}

export class PgCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | null,
    private readonly fsync: boolean,
  ) {}

  /** `postgres://` URL of the cluster's `postgres` database, as the superuser `smtpd_ts`, over TCP on loopback. */
  get url(): string {
    return `postgres://smtpd_ts@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: readonly string[]): string {
    return execFileSync(path.join(BIN!, tool), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
  }

  /** @param options.fsync as a real server (the bench); the tests run without (default false), which is faster. */
  static async create(options: { fsync?: boolean } = {}): Promise<PgCluster> {
    if (!BIN) throw new Error(String(PG_SKIP));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtpd-ts-pg-'));
    const user = runAs();
    if (user) chownSync(dir, user.uid, user.gid);
    const cluster = new PgCluster(dir, await freePort(), user, options.fsync ?? false);
    cluster.run('initdb', ['-D', path.join(dir, 'data'), '-U', 'smtpd_ts', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    cluster.start();
    return cluster;
  }

  /** Starts the server (again) on its port; waits until it accepts connections. */
  start(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=${this.fsync ? 'on' : 'off'} -c max_connections=50`;
    this.run('pg_ctl', [
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-o',
      options,
      '-w',
      'start',
    ]);
  }

  /** Stops the server at once (`-m immediate`: connections are cut, as when a database host fails). */
  stop(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /** Runs SQL through psql; returns its unaligned output. */
  sql(query: string): string {
    return this.run('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-U',
      'smtpd_ts',
      '-d',
      'postgres',
      '-XAtc',
      query,
    ]).trim();
  }

  /** Empties the sink's table, where an instance has made it. */
  clearMessages(): void {
    this.sql(
      "DO $$ BEGIN IF to_regclass('smtpd_ts_messages') IS NOT NULL THEN TRUNCATE smtpd_ts_messages; END IF; END $$",
    );
  }

  /** Stops the server and removes the folder. */
  remove(): void {
    try {
      this.stop();
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
