/**
 * The inbox's figures (`npm run bench:inbox`): smtpd-ts with `--http` is
 * filled with 10,000 messages of 1 KiB by the load generator, then the
 * memory each stored message costs (RSS growth per message) and the time to
 * serve the first page of the list, a search and the newest message are
 * measured, medians of 20 requests; then the web UI's bundle size (gzipped,
 * as served) and, in Debian's Chromium, the time from navigation to the
 * first list shown, median of 5 fresh page loads (targets: under 150 KiB,
 * under 1 s). Loopback only; the server is started and stopped here, by
 * its PID.
 *
 * Usage: node --import tsx test/bench/inbox.ts [--messages N]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LoadRun } from './load-generator.js';
import { memory } from './proc-stats.js';
import { BROWSER_SKIP, launchBrowser } from '../helpers/browser.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { messages: { type: 'string', default: '10000' } } });
const count = Number(values.messages);

const child = spawn(
  process.execPath,
  [
    path.join(ROOT, 'bin', 'smtpd-ts.js'),
    '-n',
    '-f',
    'json',
    '--http',
    '127.0.0.1:0',
    '--max-messages',
    '0',
    '127.0.0.1:0',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const stopChild = () => {
  if (child.exitCode === null) child.kill('SIGTERM');
};
process.on('exit', stopChild);
let err = '';
const ready = new Promise<{ smtp: number; http: string }>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no listening line within 15 s:\n${err}`)), 15_000);
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    const smtp = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
    const http = /inbox over HTTP on (http:\/\/[^/\s]+)\//.exec(err);
    if (smtp && http) {
      clearTimeout(timer);
      resolve({ smtp: Number(smtp[1]), http: http[1]! });
    }
  });
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(url: string, n = 20): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    times.push(performance.now() - t);
  }
  return median(times);
}

/** The bundle's size as served (gzip) and the first list's time in Chromium with the inbox full. */
async function webUi(http: string): Promise<string[][]> {
  const files = ['app.js', 'app.css'].map((f) => readFileSync(path.join(ROOT, 'dist', 'web', f)));
  const raw = files.reduce((n, f) => n + f.length, 0);
  const gzipped = files.reduce((n, f) => n + gzipSync(f, { level: 9 }).length, 0);
  const rows = [
    [
      'web UI bundle (app.js + app.css), gzip as served (target < 150 KiB)',
      `${(gzipped / 1024).toFixed(1)} KiB (${(raw / 1024).toFixed(1)} KiB raw)`,
    ],
  ];
  if (BROWSER_SKIP) return [...rows, ['web UI first list shown', `not measured: ${BROWSER_SKIP}`]];
  const browser = await launchBrowser();
  try {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${http}/`);
      await page.waitForSelector('li.row');
      times.push(await page.evaluate<number>('performance.now()'));
      await page.close();
    }
    return [
      ...rows,
      ['web UI: navigation to the first list shown, median of 5 (target < 1 s)', `${median(times).toFixed(0)} ms`],
    ];
  } finally {
    await browser.close();
  }
}

try {
  const { smtp, http } = await ready;
  await timed(`${http}/api/v1/messages`, 5);
  const before = memory(child.pid!).rssKiB;
  const run = new LoadRun({
    host: '127.0.0.1',
    port: smtp,
    mode: 'pipelined',
    connections: 10,
    messages: count,
    warmup: 0,
    messageSize: 1024,
    timeoutMs: 300_000,
  });
  await run.prepare();
  const result = await run.go();
  await run.finish();
  if (!result.ok) throw new Error(`the load failed: ${result.error}`);
  const after = memory(child.pid!).rssKiB;
  const list = (await (await fetch(`${http}/api/v1/messages?limit=1`)).json()) as { total: number };
  if (list.total !== count) throw new Error(`${list.total} messages in the inbox, ${count} sent`);
  const rows = [
    ['messages stored', count.toLocaleString('en-US')],
    ['RSS growth per stored 1 KiB message', `${((after - before) / count).toFixed(2)} KiB`],
    [
      'GET /api/v1/messages (first page of 50), median of 20',
      `${(await timed(`${http}/api/v1/messages`)).toFixed(2)} ms`,
    ],
    ['GET /api/v2/messages (MailHog, first page of 50)', `${(await timed(`${http}/api/v2/messages`)).toFixed(2)} ms`],
    [
      'GET /api/v1/search?query=subject:message (whole inbox)',
      `${(await timed(`${http}/api/v1/search?query=subject:message`)).toFixed(2)} ms`,
    ],
    ['GET /api/v1/message/latest', `${(await timed(`${http}/api/v1/message/latest`)).toFixed(2)} ms`],
  ];
  rows.push(...(await webUi(http)));
  process.stdout.write(`| figure | value |\n| --- | ---: |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`);
} finally {
  stopChild();
}
