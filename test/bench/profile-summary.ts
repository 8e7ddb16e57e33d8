/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as `npm run bench -- --profile
 * DIR` or `node --cpu-prof` write them): the functions with the most self
 * time, and self time by where the code lives (our src/, node:internal,
 * node_modules, GC, idle).
 *
 * Usage: node --import tsx test/bench/profile-summary.ts [--top N] FILE.cpuprofile...
 * (several files are added up).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
}

/** Where a frame's code lives, for the coarse breakdown. */
function area(frame: CallFrame): string {
  const { functionName: name, url } = frame;
  if (url === '') return name.startsWith('(') ? name : '(native or V8 builtin)';
  if (url.startsWith('node:')) return 'node: built-in modules';
  if (url.includes('/node_modules/')) return `node_modules/${url.split('/node_modules/')[1]!.split('/')[0]}`;
  if (url.includes('/dist/') || url.includes('/src/')) return 'smtpd-ts (dist/ or src/)';
  return 'other';
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const file = frame.url.replace(/^file:\/\//, '');
  const short = file.includes('/node_modules/')
    ? `node_modules/${file.split('/node_modules/')[1]}`
    : file.startsWith('node:')
      ? file
      : path.relative(process.cwd(), file);
  return `${short}:${frame.lineNumber + 1}`;
}

/** Self time per function and per area, in ms, over one or more profiles. */
export function summarise(profiles: readonly CpuProfile[]): {
  functions: SelfTime[];
  areas: Map<string, number>;
  totalMs: number;
} {
  const byFunction = new Map<string, SelfTime>();
  const areas = new Map<string, number>();
  let totalMs = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const frame = nodes.get(id)?.callFrame;
      if (!frame) return;
      totalMs += ms;
      const name = frame.functionName || '(anonymous)';
      const at = where(frame);
      const key = `${name} ${at}`;
      const prev = byFunction.get(key);
      byFunction.set(key, { name, where: at, ms: (prev?.ms ?? 0) + ms });
      const a = area(frame);
      areas.set(a, (areas.get(a) ?? 0) + ms);
    });
  }
  return { functions: [...byFunction.values()].sort((a, b) => b.ms - a.ms), areas, totalMs };
}

function main(argv: readonly string[]): void {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { top: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write('usage: node --import tsx test/bench/profile-summary.ts [--top N] FILE.cpuprofile...\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(values.top ?? 25);
  const profiles = positionals.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
  const { functions, areas, totalMs } = summarise(profiles);
  const busyMs = totalMs - (areas.get('(idle)') ?? 0);
  const pct = (ms: number, of: number) => `${((100 * ms) / of).toFixed(1)}%`;
  const out: string[] = [];
  out.push(
    `Profile: ${positionals.join(', ')}: ${(totalMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s not idle`,
    '',
  );
  out.push('| area | self ms | of busy |', '| --- | ---: | ---: |');
  for (const [a, ms] of [...areas].sort((x, y) => y[1] - x[1]))
    if (a !== '(idle)') out.push(`| ${a} | ${ms.toFixed(0)} | ${pct(ms, busyMs)} |`);
  out.push('', '| function | where | self ms | of busy |', '| --- | --- | ---: | ---: |');
  for (const f of functions.filter((f) => f.name !== '(idle)').slice(0, top))
    out.push(`| ${f.name} | ${f.where} | ${f.ms.toFixed(0)} | ${pct(f.ms, busyMs)} |`);
  process.stdout.write(out.join('\n') + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname))
  main(process.argv.slice(2));
