/**
 * A bystander client in a process of its own (so the attacker's work in
 * the parent cannot slow it): until told to stop, connects again and again
 * and waits for the greeting, and, given the inbox's URL, also lists the
 * inbox (`GET /api/v1/messages?limit=50`, read whole); it reports the
 * slowest of each in milliseconds, and any list that did not answer 200.
 *   fork('bystander.ts', [port, url?]); send 'stop'; receive a ByStanderReport
 */
import net from 'node:net';

export interface BystanderReport {
  readonly worstMs: number;
  readonly greetings: number;
  readonly worstHttpMs: number;
  readonly lists: number;
  /** Statuses other than 200 the list got, and errors. */
  readonly listFailures: readonly string[];
}

const port = Number(process.argv[2]);
const url = process.argv[3];
let stop = false;
process.on('message', () => (stop = true));
let worstMs = 0;
let greetings = 0;
let worstHttpMs = 0;
let lists = 0;
const listFailures: string[] = [];

function greeting(): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(), 30_000);
    s.once('data', () => s.destroy());
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function list(): Promise<void> {
  try {
    const res = await fetch(`${url}/api/v1/messages?limit=50`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (res.status !== 200 && listFailures.length < 20) listFailures.push(`status ${res.status}`);
  } catch (err) {
    if (listFailures.length < 20) listFailures.push((err as Error).message);
  }
}

for (let i = 0; !stop && i < 1_000_000; i++) {
  let started = performance.now();
  await greeting();
  worstMs = Math.max(worstMs, performance.now() - started);
  greetings++;
  if (url !== undefined) {
    started = performance.now();
    await list();
    worstHttpMs = Math.max(worstHttpMs, performance.now() - started);
    lists++;
  }
  await new Promise((r) => setTimeout(r, 5));
}
process.send!({ worstMs, greetings, worstHttpMs, lists, listFailures } satisfies BystanderReport);
process.disconnect();
