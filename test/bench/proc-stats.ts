/**
 * What the kernel says about a server process and the processes it started
 * (`--workers`' workers): CPU time (utime and stime, all threads, from
 * /proc/PID/stat) and memory (VmRSS, VmHWM from /proc/PID/status), summed
 * over the tree. CPU time is the figure a busy machine disturbs least, so
 * every server gets it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What `read` returns, or `fallback` when the process is gone meanwhile. */
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** `pid` and its descendants alive now (from /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const task of readOr(() => readdirSync(`/proc/${p}/task`), [])) {
      const children = readOr(() => readFileSync(`/proc/${p}/task/${task}/children`, 'utf8'), '');
      for (const child of children.trim().split(/\s+/)) if (child !== '') visit(Number(child));
    }
  };
  visit(pid);
  return out;
}

let ticksPerSecond: number | undefined;

/** USER_HZ: the unit of utime and stime (100 on Linux nearly everywhere). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    const n = Number(r.stdout?.trim());
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds one process has used so far, user and system apart, every thread included. */
function processCpu(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
  } catch {
    return { user: 0, system: 0 }; // a child gone meanwhile
  }
}

/** CPU seconds the process and its descendants have used so far, user and system apart. */
export function cpuTimes(pid: number): { readonly user: number; readonly system: number } {
  const total = { user: 0, system: 0 };
  for (const p of processTree(pid)) {
    const t = processCpu(p);
    total.user += t.user;
    total.system += t.system;
  }
  return total;
}

export interface Memory {
  /** Resident set size now, in KiB. */
  readonly rssKiB: number;
  /** Peak resident set size since the process started, in KiB. */
  readonly hwmKiB: number;
}

function processMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** The memory of the process and its descendants, summed (the peak: the sum of each one's peak, an upper bound). */
export function memory(pid: number): Memory {
  let rssKiB = 0;
  let hwmKiB = 0;
  for (const p of processTree(pid)) {
    try {
      const m = processMemory(p);
      rssKiB += m.rssKiB;
      hwmKiB += m.hwmKiB;
    } catch (err) {
      if (p === pid) throw err;
    }
  }
  return { rssKiB, hwmKiB };
}
