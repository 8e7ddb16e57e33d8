/**
 * The shared sink's figures (`npm run bench:shared`; a full `npm run bench`
 * includes them): S2's load (1 KiB messages, 50 lock-step connections)
 * against smtpd-ts with `--http` and its embedded store (in one process,
 * and with `--workers 2`: the workers put their messages in the primary's
 * inbox), with `--store` on
 * a PostgreSQL cluster made for the run (Debian's binaries, fsync on),
 * and with 1 and 2 such instances behind HAProxy (`send-proxy-v2`). Each
 * configuration's rate, and its CPU per message summed over every process
 * it needs (the sinks, the PostgreSQL server's processes, HAProxy), as
 * medians of the rounds and as ratios to the embedded store in the same
 * round. Loopback only; every process is started here and stopped by its PID.
 *
 * Then the table's size (`--table-sizes`, 10,000 and 100,000 rows by
 * default): one `--store` instance over a table filled by SQL, its RSS once
 * it has served the first page 200 times, and that page's latency
 * (`GET /api/v1/messages?limit=50`, median and 95th percentile): an
 * instance holds no copy of the table, so both should stay flat as it grows.
 *
 * Usage: node --import tsx test/bench/shared.ts [--rounds N] [--messages N] [--table-sizes 10000,100000]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Balancer, HAPROXY_SKIP } from '../helpers/haproxy.js';
import { PG_SKIP, PgCluster } from '../helpers/postgres.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { LoadRun } from './load-generator.js';
import { cpuTimes, memory } from './proc-stats.js';
import { inboxUrl } from '../helpers/cli.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '10000' },
    'table-sizes': { type: 'string', default: '10000,100000' },
  },
});
const rounds = Number(values.rounds);
const messages = Number(values.messages);

interface Config {
  readonly name: string;
  readonly instances: number;
  readonly store: boolean;
  readonly balancer: boolean;
  /** `--workers N`; 1: one process. */
  readonly workers?: number;
}

const CONFIGS: readonly Config[] = [
  { name: 'embedded store', instances: 1, store: false, balancer: false },
  { name: 'embedded store, --workers 2', instances: 1, store: false, balancer: false, workers: 2 },
  { name: '--store postgres', instances: 1, store: true, balancer: false },
  { name: 'HAProxy + 1 instance', instances: 1, store: true, balancer: true },
  { name: 'HAProxy + 2 instances', instances: 2, store: true, balancer: true },
];

interface Sample {
  readonly rate: number;
  /** CPU µs per message: all, the sinks', PostgreSQL's, HAProxy's. */
  readonly cpu: number;
  readonly sink: number;
  readonly postgres: number;
  readonly haproxy: number;
}

/** CPU ms used so far by `pids` and their descendants. */
function cpuMs(pids: readonly number[]): number {
  let seconds = 0;
  for (const pid of pids) {
    const t = cpuTimes(pid);
    seconds += t.user + t.system;
  }
  return seconds * 1000;
}

function postmaster(db: PgCluster): number {
  return Number(readFileSync(path.join(db.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** A sink with the inbox and no retention (the table keeps what it is given), output to /dev/null, and `args`. */
function startSink(args: readonly string[]): Promise<RunningCli> {
  return startCli([
    '-n',
    '--output',
    '/dev/null',
    '--http',
    '127.0.0.1:0',
    '--max-messages',
    '0',
    ...args,
    '127.0.0.1:0',
  ]);
}

async function measure(config: Config, db: PgCluster): Promise<Sample> {
  db.clearMessages();
  const sinks: RunningCli[] = [];
  let balancer: Balancer | null = null;
  try {
    for (let i = 0; i < config.instances; i++)
      sinks.push(
        await startSink([
          ...(config.store ? ['--store', db.url] : []),
          ...(config.balancer ? ['--proxy-protocol'] : []),
          ...(config.workers ? ['--workers', String(config.workers)] : []),
        ]),
      );
    if (config.balancer) balancer = await Balancer.start(sinks.map((s) => s.port));
    const port = balancer ? balancer.port : sinks[0]!.port;
    const run = new LoadRun({
      host: '127.0.0.1',
      port,
      mode: 'lockstep',
      connections: 50,
      messages,
      warmup: 500,
      messageSize: 1024,
      timeoutMs: 120_000,
    });
    await run.prepare();
    const groups = {
      sink: sinks.map((s) => s.child.pid!),
      postgres: config.store ? [postmaster(db)] : [],
      haproxy: balancer ? [balancer.pid] : [],
    };
    const before = { sink: cpuMs(groups.sink), postgres: cpuMs(groups.postgres), haproxy: cpuMs(groups.haproxy) };
    const result = await run.go();
    const spent = {
      sink: cpuMs(groups.sink) - before.sink,
      postgres: cpuMs(groups.postgres) - before.postgres,
      haproxy: cpuMs(groups.haproxy) - before.haproxy,
    };
    await run.finish();
    if (!result.ok) throw new Error(`${config.name}: the load failed: ${result.error}`);
    const per = (ms: number) => (ms * 1000) / result.messages;
    return {
      rate: result.messages / (result.elapsedMs / 1000),
      cpu: per(spent.sink + spent.postgres + spent.haproxy),
      sink: per(spent.sink),
      postgres: per(spent.postgres),
      haproxy: per(spent.haproxy),
    };
  } finally {
    await balancer?.stop();
    for (const s of sinks) await s.stop('SIGTERM');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;

/** `rows` messages of about 1 KiB, each its own, written straight into the table (the schema is the sink's). */
function fill(db: PgCluster, rows: number): void {
  const envelope = JSON.stringify({
    helo: 'bench.test',
    extended: true,
    peer: { address: '127.0.0.1', port: 40000 },
    local: { address: '127.0.0.1', port: 1025 },
    mailOptions: [],
    rcptOptions: [],
    bareLineEndings: { cr: 0, lf: 0 },
    tls: null,
    authUser: null,
    dialogue: null,
    relay: null,
    messageId: 'bench',
  });
  const body = 'x'.repeat(900);
  db.sql(
    `INSERT INTO smtpd_ts_messages (id, received_at, size, mail_from, rcpt_to, subject, from_text, to_text, envelope, raw, words)
     SELECT 'bench' || lpad(g::text, 17, '0'), now() - g * interval '1 second', 1024, 'app@example.test',
       ARRAY['user@example.test'], 'Message ' || g, 'app <app@example.test>', 'user <user@example.test>',
       '${envelope}'::jsonb,
       convert_to('From: App <app@example.test>' || chr(13) || chr(10) || 'To: user@example.test' || chr(13) || chr(10)
         || 'Subject: Message ' || g || chr(13) || chr(10) || chr(13) || chr(10) || '${body}' || chr(13) || chr(10), 'UTF8'),
       to_tsvector('simple', 'message ' || g)
     FROM generate_series(1, ${rows}) g; ANALYZE smtpd_ts_messages`,
  );
}

interface TableFigures {
  readonly rows: number;
  readonly rssMiB: number;
  readonly medianMs: number;
  readonly p95Ms: number;
}

/** One instance over a table of `rows` messages: its RSS after 200 first pages, and their latency. */
async function tableSize(db: PgCluster, rows: number): Promise<TableFigures> {
  db.clearMessages();
  const sink = await startSink(['--store', db.url]);
  try {
    fill(db, rows);
    const url = `${inboxUrl(sink)}/api/v1/messages?limit=50`;
    const times: number[] = [];
    for (let i = 0; i < 220; i++) {
      const started = performance.now();
      const res = await fetch(url);
      const page = (await res.json()) as { total: number; messages: unknown[] };
      if (page.total !== rows || page.messages.length !== 50)
        throw new Error(`the first page of ${rows}: ${page.total}`);
      if (i >= 20) times.push(performance.now() - started);
    }
    return {
      rows,
      rssMiB: memory(sink.child.pid!).rssKiB / 1024,
      medianMs: median(times),
      p95Ms: percentile(times, 0.95),
    };
  } finally {
    await sink.stop('SIGTERM');
  }
}

if (PG_SKIP || HAPROXY_SKIP) {
  process.stdout.write(`shared sink bench not run: ${PG_SKIP || HAPROXY_SKIP}\n`);
} else {
  const db = await PgCluster.create({ fsync: true });
  try {
    const samples = new Map<string, Sample[]>(CONFIGS.map((c) => [c.name, []]));
    const ratios = new Map<string, { rate: number[]; cpu: number[] }>(
      CONFIGS.map((c) => [c.name, { rate: [], cpu: [] }]),
    );
    for (let r = 0; r < rounds; r++) {
      // Each round in another order, so that no configuration always runs on a warm or a cold machine.
      const order = CONFIGS.map((_, i) => CONFIGS[(i + r) % CONFIGS.length]!);
      const round = new Map<string, Sample>();
      for (const config of order) {
        const s = await measure(config, db);
        round.set(config.name, s);
        samples.get(config.name)!.push(s);
        process.stderr.write(
          `round ${r + 1}/${rounds} ${config.name}: ${s.rate.toFixed(0)} msg/s, ${s.cpu.toFixed(0)} µs CPU/msg ` +
            `(sinks ${s.sink.toFixed(0)}, PostgreSQL ${s.postgres.toFixed(0)}, HAProxy ${s.haproxy.toFixed(0)})\n`,
        );
      }
      const base = round.get(CONFIGS[0]!.name)!;
      for (const [name, s] of round) {
        ratios.get(name)!.rate.push(s.rate / base.rate);
        ratios.get(name)!.cpu.push(s.cpu / base.cpu);
      }
    }
    const rows = CONFIGS.map((c) => {
      const list = samples.get(c.name)!;
      const m = (f: (s: Sample) => number) => median(list.map(f));
      const ratio = ratios.get(c.name)!;
      return `| ${c.name} | ${m((s) => s.rate).toFixed(0)} | ${m((s) => s.cpu).toFixed(0)} | ${m((s) => s.sink).toFixed(0)} | ${m((s) => s.postgres).toFixed(0)} | ${m((s) => s.haproxy).toFixed(0)} | ${median(ratio.rate).toFixed(2)}x | ${median(ratio.cpu).toFixed(2)}x |`;
    });
    process.stdout.write(
      [
        `S2's load (${messages} messages of 1 KiB, 50 lock-step connections), medians of ${rounds} rounds; ` +
          'ratios to the embedded store in the same round. One 2-core machine runs the generator, the sinks, ' +
          'PostgreSQL and HAProxy: two instances share the cores the one had, so they add no rate here.',
        '',
        '| configuration | msg/s | CPU µs/msg | sinks | PostgreSQL | HAProxy | msg/s vs embedded | CPU/msg vs embedded |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...rows,
        '',
      ].join('\n'),
    );
    const sizes = values['table-sizes'].split(',').map(Number);
    const figures: TableFigures[] = [];
    for (const rows of sizes) figures.push(await tableSize(db, rows));
    process.stdout.write(
      [
        `One --store instance over a table of N messages (about 1 KiB each): its RSS after serving the first page ` +
          `200 times, and that page's latency (GET /api/v1/messages?limit=50). Ratios to the smallest table.`,
        '',
        '| messages in the table | RSS MiB | vs smallest | first page median ms | 95th percentile ms |',
        '| ---: | ---: | ---: | ---: | ---: |',
        ...figures.map(
          (f) =>
            `| ${f.rows} | ${f.rssMiB.toFixed(0)} | ${(f.rssMiB / figures[0]!.rssMiB).toFixed(2)}x | ${f.medianMs.toFixed(1)} | ${f.p95Ms.toFixed(1)} |`,
        ),
        '',
      ].join('\n'),
    );
  } finally {
    db.remove();
  }
}
