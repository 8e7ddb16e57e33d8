/**
 * A bystander client in a process of its own (so the attacker's work in
 * the parent cannot slow it): connects again and again until told to stop,
 * and reports the slowest greeting it waited for, in milliseconds.
 *   fork('bystander.ts', [port]); send 'stop'; receive { worstMs, greetings }
 */
import net from 'node:net';

const port = Number(process.argv[2]);
let stop = false;
process.on('message', () => (stop = true));
let worstMs = 0;
let greetings = 0;
for (let i = 0; !stop && i < 1_000_000; i++) {
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(), 30_000);
    s.once('data', () => s.destroy());
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  worstMs = Math.max(worstMs, performance.now() - started);
  greetings++;
  await new Promise((r) => setTimeout(r, 5));
}
process.send!({ worstMs, greetings });
process.disconnect();
