/**
 * What a soak run found: the report, the check of the JSON output against
 * the clients' ledgers, and the summary the script prints (and the README
 * quotes).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Fate, Load, Outcome, SessionEnd } from './load.js';

export type Variant = 'steady' | 'sigterm';

export interface Sample {
  readonly rssKiB: number;
  readonly fds: number;
}

export interface SoakReport {
  readonly variant: Variant;
  readonly seed: number;
  readonly clients: number;
  /** Problems found; empty when the run passed. */
  readonly problems: string[];
  readonly durationMs: number;
  readonly started: number;
  readonly outcomes: Record<Outcome, number>;
  /** Messages per fate (what the client meant to do). */
  readonly fates: Partial<Record<Fate, number>>;
  /** Refusals per reply code (552 for oversize, 421 at shutdown). */
  readonly refusedBy: Partial<Record<number, number>>;
  /** `unknown` messages (hang-up after the dot) that the server had written. */
  readonly unknownWritten: number;
  readonly sessions: Partial<Record<SessionEnd, number>>;
  /** Lines in the JSON output. */
  readonly lines: number;
  readonly idle: Sample;
  /** Highest RSS (VmHWM) and descriptor count seen. */
  readonly peak: Sample;
  /** After the load and the settle (steady variant). */
  readonly after: Sample | null;
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

export function tally<K extends string | number>(keys: readonly K[]): Partial<Record<K, number>> {
  const counts: Partial<Record<K, number>> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

/** Checks the JSON lines against the ledgers; returns the number of lines and of `unknown` messages written. */
export async function checkOutput(
  file: string,
  loads: readonly Load[],
  problems: string[],
): Promise<{ lines: number; unknownWritten: number }> {
  const seen = new Map<string, number>();
  let lines = 0;
  const report = (text: string) => problems.length < 40 && problems.push(text);
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    lines++;
    let object: { messageId?: unknown; size?: unknown };
    try {
      object = JSON.parse(line) as typeof object;
    } catch {
      report(`output line ${lines} is not JSON: ${line.slice(0, 80)}`);
      continue;
    }
    const token = /^<(.+)@soak\.test>$/.exec(String(object.messageId))?.[1];
    const entry = token === undefined ? undefined : loads.map((l) => l.ledger.get(token)).find((e) => e);
    if (!token || !entry) {
      report(`output line ${lines} is no message of this run: messageId ${JSON.stringify(object.messageId)}`);
      continue;
    }
    seen.set(token, (seen.get(token) ?? 0) + 1);
    if (object.size !== entry.size)
      report(`${token} (${entry.fate}) has size ${String(object.size)} in the output, ${entry.size} sent`);
  }
  let unknownWritten = 0;
  for (const load of loads) {
    for (const entry of load.ledger.values()) {
      const n = seen.get(entry.token) ?? 0;
      if (entry.outcome === 'accepted' && n !== 1) report(`${entry.token} got 250 but is in the output ${n} times`);
      if (entry.outcome === 'unknown' && n > 1)
        report(`${entry.token} (hang-up after the dot) is in the output ${n} times`);
      if (entry.outcome === 'unknown' && n === 1) unknownWritten++;
      if ((entry.outcome === 'refused' || entry.outcome === 'abandoned') && n > 0) {
        report(
          `${entry.token} (${entry.fate}, ${entry.outcome}${entry.code ? ` ${entry.code}` : ''}) is in the output ${n} times`,
        );
      }
    }
  }
  return { lines, unknownWritten };
}

/** One summary line per fact, for the console and the README. */
export function summary(r: SoakReport): string {
  const o = r.outcomes;
  const list = (counts: object) =>
    Object.entries(counts)
      .map(([k, n]) => `${k} ${String(n)}`)
      .join(', ');
  return [
    `soak ${r.variant}: ${r.problems.length === 0 ? 'PASSED' : 'FAILED'} (seed ${r.seed}, ${r.clients} clients, ${(r.durationMs / 1000).toFixed(1)} s)`,
    `  messages: ${r.started} started, ${o.accepted} got 250 (${Math.round((o.accepted * 1000) / r.durationMs)}/s), ${o.refused} refused (${list(r.refusedBy)}), ` +
      `${o.abandoned} abandoned, ${o.unknown} hang-ups after the dot (${r.unknownWritten} of them written), ${o.failed} failed`,
    `  fates: ${list(r.fates)}`,
    `  sessions: ${list(r.sessions)}`,
    `  output: ${r.lines} JSON lines (warm-up and final check included)`,
    `  server: RSS idle ${mib(r.idle.rssKiB)}, peak ${mib(r.peak.rssKiB)}${r.after ? `, after ${mib(r.after.rssKiB)}` : ''}; ` +
      `fds idle ${r.idle.fds}, peak ${r.peak.fds}${r.after ? `, after ${r.after.fds}` : ''}; exit ${r.exit?.code ?? r.exit?.signal ?? 'none'}`,
    ...r.problems.map((p) => `  PROBLEM: ${p}`),
  ].join('\n');
}
