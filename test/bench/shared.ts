/**
 * The shared sink's figures (`npm run bench:shared`; a full `npm run bench`
 * includes them): S2's load (1 KiB messages, 50 lock-step connections)
 * against smtpd-ts with `--http` and its embedded store, with `--store` on
 * a PostgreSQL cluster made for the run (Debian's binaries, fsync on),
 * and with 1 and 2 such instances behind HAProxy (`send-proxy-v2`). Each
 * configuration's rate, and its CPU per message summed over every process
 * it needs (the sinks, the PostgreSQL server's processes, HAProxy), as
 * medians of the rounds and as ratios to the embedded store in the same
 * round. Loopback only; every process is started here and stopped by its PID.
 *
 * Usage: node --import tsx test/bench/shared.ts [--rounds N] [--messages N]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Balancer, HAPROXY_SKIP } from '../helpers/haproxy.js';
import { PG_SKIP, PgCluster } from '../helpers/postgres.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { LoadRun } from './load-generator.js';
import { cpuTimes } from './proc-stats.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, messages: { type: 'string', default: '10000' } },
});
const rounds = Number(values.rounds);
const messages = Number(values.messages);

interface Config {
  readonly name: string;
  readonly instances: number;
  readonly store: boolean;
  readonly balancer: boolean;
}

const CONFIGS: readonly Config[] = [
  { name: 'embedded store', instances: 1, store: false, balancer: false },
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

async function measure(config: Config, db: PgCluster): Promise<Sample> {
  db.clearMessages();
  const sinks: RunningCli[] = [];
  let balancer: Balancer | null = null;
  try {
    for (let i = 0; i < config.instances; i++)
      sinks.push(
        await startCli([
          '-n',
          '--output',
          '/dev/null',
          '--http',
          '127.0.0.1:0',
          '--max-messages',
          '0',
          ...(config.store ? ['--store', db.url] : []),
          ...(config.balancer ? ['--proxy-protocol'] : []),
          '127.0.0.1:0',
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
  } finally {
    db.remove();
  }
}
