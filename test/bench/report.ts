/**
 * Turns the bench's samples into markdown: medians per server, ratios of
 * smtpd-ts against each peer measured in the same run, and the targets of
 * the performance work, each met, missed or not measurable here.
 *
 * A ratio is the median over rounds of (ours in round r) / (peer in round
 * r): servers measured minutes apart on a shared machine drift, servers in
 * the same round much less.
 */
import { median, type BenchReport, type Sample } from './bench.js';
import type { ScenarioId } from './scenarios.js';

type Better = 'higher' | 'lower';

interface Metric {
  readonly key: string;
  readonly scenario: ScenarioId;
  readonly label: string;
  readonly better: Better;
  /** Shown in the ratio tables too (not the load generator's own figures). */
  readonly compared: boolean;
}

const m = (key: string, label: string, better: Better, compared = true): Metric => ({
  key,
  scenario: key.split('.')[0] as ScenarioId,
  label,
  better,
  compared,
});

/** The columns, in two tables so that each fits a screen. */
const GROUPS: readonly { title: string; metrics: readonly Metric[] }[] = [
  {
    title: 'Small messages: S1 latency, S2 lock-step, S2p pipelined',
    metrics: [
      m('S1.rate', 'S1 msg/s', 'higher'),
      m('S1.p50', 'S1 p50 ms', 'lower'),
      m('S1.p99', 'S1 p99 ms', 'lower'),
      m('S2.rate', 'S2 msg/s', 'higher'),
      m('S2.p99', 'S2 p99 ms', 'lower'),
      m('S2.cpuMsg', 'S2 CPU µs/msg', 'lower'),
      m('S2.userMsg', 'S2 user µs/msg', 'lower'),
      m('S2.sysMsg', 'S2 sys µs/msg', 'lower'),
      m('S2.genBusy', 'S2 generator CPU %', 'lower', false),
      m('S2p.rate', 'S2p msg/s', 'higher'),
      m('S2p.p99', 'S2p p99 ms', 'lower'),
      m('S2p.cpuMsg', 'S2p CPU µs/msg', 'lower'),
    ],
  },
  {
    title: 'Large messages, memory and start: S3 throughput, S4 memory, S5 start',
    metrics: [
      m('S3.mbps', 'S3 MB/s', 'higher'),
      m('S3.cpuMB', 'S3 CPU ms/MB', 'lower'),
      m('S3.genBusy', 'S3 generator CPU %', 'lower', false),
      m('S3.hwm', 'S4 peak MiB in S3', 'lower'),
      m('S4.hwm', 'S4 peak MiB idle', 'lower'),
      m('S4.perConn', 'S4 KiB/idle conn', 'lower'),
      m('S5.listen', 'S5 listen ms', 'lower'),
      m('S5.first', 'S5 1st msg ms', 'lower'),
    ],
  },
];

/** Samples indexed for lookups. */
class Table {
  constructor(private readonly samples: readonly Sample[]) {}

  /** Value per round (only rounds whose run was ok). */
  byRound(server: string, key: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.samples) {
      const v = s.metrics[key];
      if (s.server === server && s.outcome === 'ok' && v !== undefined && Number.isFinite(v)) out.set(s.round, v);
    }
    return out;
  }

  median(server: string, key: string): number | null {
    const v = [...this.byRound(server, key).values()];
    return v.length > 0 ? median(v) : null;
  }

  /** Median over rounds of a(r) / b(r), over rounds where both were measured. */
  ratio(a: string, aKey: string, b: string, bKey: string = aKey): number | null {
    const bs = this.byRound(b, bKey);
    const ratios: number[] = [];
    for (const [round, av] of this.byRound(a, aKey)) {
      const bv = bs.get(round);
      if (bv !== undefined && bv !== 0) ratios.push(av / bv);
    }
    return ratios.length > 0 ? median(ratios) : null;
  }

  /** How the runs that gave no value ended: `2 timeout`, `1 failed`. */
  misses(server: string, scenario: ScenarioId): string {
    const counts = new Map<string, number>();
    for (const s of this.samples) {
      if (s.server === server && s.scenario === scenario && s.outcome !== 'ok')
        counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
    }
    return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
  }

  ran(server: string, scenario: ScenarioId): boolean {
    return this.samples.some((s) => s.server === server && s.scenario === scenario);
  }
}

/** 12,345 / 123 / 12.3 / 1.23 / 0.123 */
export function formatNumber(x: number): string {
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

const formatRatio = (r: number) => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(cells: readonly string[], leftColumns = 1): string {
  return `${row(cells)}\n${row(cells.map((_, i) => (i < leftColumns ? '---' : '---:')))}`;
}

interface Target {
  readonly text: string;
  /** The measured figure: a ratio (`x`) or a value in `unit`. */
  readonly measure: (t: Table, report: BenchReport) => number | null;
  readonly needs: readonly { server: string; scenario: ScenarioId }[];
  readonly unit: string;
  readonly op: '>=' | '<=' | '<';
  readonly bound: number;
}

const OURS = 'smtpd-ts';

/** A target on the same-round ratio of smtpd-ts's `key` to `peer`'s (measured only when the peer ran it). */
function vsPeer(text: string, key: string, peer: string, op: Target['op'], bound: number): Target {
  const scenario = key.split('.')[0] as ScenarioId;
  return { text, measure: (t) => t.ratio(OURS, key, peer), needs: [{ server: peer, scenario }], unit: 'x', op, bound };
}

/** The targets of the second round of performance work, for smtpd-ts printing in DebuggingServer format to a file. */
const TARGETS: readonly Target[] = [
  vsPeer('S2 user CPU per message at most 2x smtp-sink', 'S2.userMsg', 'smtp-sink', '<=', 2),
  vsPeer('S2 user CPU per message at most 0.5x smtp-server', 'S2.userMsg', 'smtp-server', '<=', 0.5),
  vsPeer('S2 msg/s at least 1.5x smtp-server-write', 'S2.rate', 'smtp-server-write', '>=', 1.5),
  vsPeer('S2 msg/s at least 1.2x smtp-server (draining)', 'S2.rate', 'smtp-server', '>=', 1.2),
  vsPeer('S2p msg/s at least 1.5x smtp-server', 'S2p.rate', 'smtp-server', '>=', 1.5),
  {
    text: 'S2p p99 within 2x of S2 p99 (no stall on pipelined input)',
    measure: (t) => t.ratio(OURS, 'S2p.p99', OURS, 'S2.p99'),
    needs: [{ server: OURS, scenario: 'S2' }],
    unit: 'x',
    op: '<=',
    bound: 2,
  },
  vsPeer('S3 MB/s at least 1.5x smtp-server-write', 'S3.mbps', 'smtp-server-write', '>=', 1.5),
  {
    text: 'S3 MB/s to /dev/null at least 1x smtp-server (draining)',
    measure: (t) => t.ratio('smtpd-ts-null', 'S3.mbps', 'smtp-server'),
    needs: [
      { server: 'smtpd-ts-null', scenario: 'S3' },
      { server: 'smtp-server', scenario: 'S3' },
    ],
    unit: 'x',
    op: '>=',
    bound: 1,
  },
  {
    text: "S3 MB/s to a file at least 0.9x the disk's dd speed",
    measure: (t, report) => {
      const rate = t.median(OURS, 'S3.mbps');
      const disk = report.machine.diskMBps;
      return rate === null || disk === null ? null : rate / disk;
    },
    needs: [],
    unit: 'x',
    op: '>=',
    bound: 0.9,
  },
  {
    text: 'S4 peak memory in S3 under 120 MiB',
    measure: (t) => t.median(OURS, 'S3.hwm'),
    needs: [],
    unit: 'MiB',
    op: '<',
    bound: 120,
  },
  {
    text: 'S4 under 8 KiB per idle connection',
    measure: (t) => t.median(OURS, 'S4.perConn'),
    needs: [],
    unit: 'KiB',
    op: '<',
    bound: 8,
  },
  {
    text: 'S5 under 150 ms to the listening line',
    measure: (t) => t.median(OURS, 'S5.listen'),
    needs: [],
    unit: 'ms',
    op: '<',
    bound: 150,
  },
  vsPeer('`-f json` S2 msg/s within 1.5x of raw (raw / json)', 'S2.rate', 'smtpd-ts-json', '<=', 1.5),
];

export interface TargetVerdict {
  readonly text: string;
  readonly measured: string;
  readonly verdict: 'met' | 'MISSED' | 'n/a';
}

export function evaluateTargets(report: BenchReport): TargetVerdict[] {
  const t = new Table(report.samples);
  const skipped = new Map(report.servers.map((s) => [s.name, s.skipped]));
  return TARGETS.map((target) => {
    const value = target.measure(t, report);
    if (value === null) {
      const missing = target.needs.find((n) => !t.ran(n.server, n.scenario));
      const why = missing
        ? skipped.get(missing.server)
          ? `${missing.server} not installed`
          : `${missing.server} ${missing.scenario} not run`
        : 'no complete run (see failures and timeouts)';
      return { text: target.text, measured: why, verdict: 'n/a' };
    }
    const met =
      target.op === '>=' ? value >= target.bound : target.op === '<=' ? value <= target.bound : value < target.bound;
    const measured = target.unit === 'x' ? formatRatio(value) : `${formatNumber(value)} ${target.unit}`;
    return { text: target.text, measured, verdict: met ? 'met' : 'MISSED' };
  });
}

export interface FormatOptions {
  /** The command that ran the bench, as typed. */
  readonly command: string;
}

export function formatReport(report: BenchReport, options: FormatOptions): string {
  const t = new Table(report.samples);
  const ran = report.servers.filter((s) => s.skipped === null);
  const chosen = new Set(report.scenarios.map((s) => s.id));
  const out: string[] = [];
  const mc = report.machine;
  const minutes = (report.finishedAt.getTime() - report.startedAt.getTime()) / 60_000;

  out.push(`# smtpd-ts benchmark${report.options.smoke ? ' (smoke: tiny counts, figures not comparable)' : ''}`, '');
  out.push(`- Date: ${report.startedAt.toISOString()} (${minutes.toFixed(1)} min)`);
  out.push(
    `- Machine: ${mc.cores} cores (${mc.cpu}), ${mc.memoryGiB} GiB, ${mc.os}, Linux ${mc.kernel}; shared with the load generator`,
  );
  out.push(`- Node ${mc.node}${mc.python ? `; ${mc.python}` : ''}`);
  out.push(
    `- Disk write speed where the outputs go: ${mc.diskMBps === null ? 'not measured (no dd)' : `${mc.diskMBps.toFixed(0)} MB/s (dd, flushed to the disk)`}; a server writing every byte is capped by it`,
  );
  out.push(
    `- Load average (1 min) at start and end: ${mc.loadAverage.map((l) => l.toFixed(2)).join(', ')} (other work on the machine shows here)`,
  );
  out.push(`- Command: \`${options.command}\``);
  out.push(
    `- Generator: ${
      report.options.generator === 'node'
        ? 'test/bench/load-generator.ts (node:net, every reply code checked) in its own process'
        : "Postfix's smtp-source for S1, S2, S3 (no latency figures); the node generator for S2p, S4, S5"
    }`,
  );
  out.push(
    `- ${report.options.rounds} round${report.options.rounds === 1 ? '' : 's'}; within each round every scenario runs on each server in turn (the order rotates by one server per round), each run on a fresh server process, bounded by a ${report.options.timeoutMs / 1000} s timeout`,
  );
  out.push('');
  out.push('Scenarios:', '');
  for (const s of report.scenarios) out.push(`- ${s.id}: ${s.title}`);
  out.push('');
  out.push(header(['server', 'command', 'ready when'], 3));
  for (const s of report.servers)
    out.push(row([s.name, `\`${s.command}\``, s.skipped ? `skipped: ${s.skipped}` : s.readyBy]));
  out.push('');
  for (const w of report.warnings) out.push(`Warning: ${w}`, '');

  // Medians.
  for (const group of GROUPS) {
    const metrics = group.metrics.filter((x) => chosen.has(x.scenario));
    if (metrics.length === 0) continue;
    out.push(`## Medians: ${group.title}`, '');
    out.push(header(['server', ...metrics.map((x) => x.label)]));
    for (const s of ran) {
      out.push(
        row([
          s.name,
          ...metrics.map((x) => {
            const v = t.median(s.name, x.key);
            const misses = t.misses(s.name, x.scenario);
            if (v === null) return misses || '—';
            return misses ? `${formatNumber(v)} (${misses})` : formatNumber(v);
          }),
        ]),
      );
    }
    out.push('');
  }

  // Ratios: each of ours against each peer, and the other configurations of ours against plain smtpd-ts.
  const ours = ran.filter((s) => s.ours);
  const peers = ran.filter((s) => !s.ours);
  const pairs: [string, string][] = [];
  for (const o of ours) for (const p of peers) pairs.push([o.name, p.name]);
  for (const o of ours) if (o.name !== OURS && ours.some((x) => x.name === OURS)) pairs.push([o.name, OURS]);
  if (pairs.length > 0) {
    for (const group of GROUPS) {
      const metrics = group.metrics.filter((x) => x.compared && chosen.has(x.scenario));
      if (metrics.length === 0) continue;
      out.push(`## Ratios, same round (A / B): ${group.title}`, '');
      out.push(
        header(['A / B', ...metrics.map((x) => `${x.label} (${x.better === 'higher' ? '>1 better' : '<1 better'})`)]),
      );
      for (const [a, b] of pairs) {
        out.push(
          row([
            `${a} / ${b}`,
            ...metrics.map((x) => {
              const r = t.ratio(a, x.key, b);
              return r === null ? '—' : formatRatio(r);
            }),
          ]),
        );
      }
      out.push('');
    }
  }

  out.push('## Targets, for smtpd-ts printing DebuggingServer output to a file', '');
  out.push(header(['target', 'measured', 'verdict']));
  for (const v of evaluateTargets(report)) out.push(row([v.text, v.measured, v.verdict]));
  out.push('');

  const problems = report.samples.filter((s) => s.outcome !== 'ok');
  if (problems.length > 0) {
    out.push('## Timeouts and failures', '');
    for (const s of problems)
      out.push(`- round ${s.round}, ${s.scenario}, ${s.server}: ${s.outcome}: ${(s.error ?? '').split('\n')[0]}`);
    out.push('');
  }

  out.push(
    'Units: MB = 10^6 bytes; msg/s and MB/s over the timed part only (from the first MAIL to the last 250; connecting, EHLO and QUIT are outside it); ' +
      'p50/p99: per message, from its MAIL to its final 250; CPU: utime + stime of the server process and its children (every thread) from /proc/PID/stat over the timed part; ' +
      'peak MiB: VmHWM of the server process (summed over its children: --workers); KiB/idle conn: growth of VmRSS with every idle session open (greeted, EHLO answered), divided by their number; ' +
      'S5 listen: from spawn to the listening line, or to the first accepted connection for servers that print none; ' +
      "generator CPU %: the load generator's own CPU time over the timed part (one core is 100 %): near 100 %, the generator, not the server, set the pace.",
  );
  return out.join('\n') + '\n';
}
