/**
 * `npm run attack -- --round inbox`: the inbox's hostile classes
 * (docs/hardening.md, "The inbox") in rounds against the real CLI with
 * `--http` and the default bounds, relaying to an upstream on loopback, with
 * a bystander in another process timing an SMTP greeting and an inbox list
 * (`GET /api/v1/messages`) throughout:
 *
 *   html       1 or 8 MiB of unclosed tags, 20,000 nested divs: opened through every read route
 *   big        a 30 MiB control-byte message, then 8 concurrent reads of the 3 largest
 *   mime       4,000 nested multiparts, then MailHog's list
 *   search     4,000 negated terms, 32 terms over every stored text, NUL
 *   listeners  4 SSE streams and 4 WebSockets that never read, open the whole round
 *   bodies     malformed bulk DELETE and PUT bodies: 400, nothing deleted or marked
 *   relay      send and release to a domain outside --relay-domains: refused, the upstream sees none
 *   store      (with PostgreSQL) a NUL subject and a 40,000-address To beside 5 bystanders into --store
 *
 * Every response must be 2xx, 400 or 503 (never another 5xx), every message
 * answered 250 (or sent by the API) must be in the Maildir once (each
 * carries a token header; the outputs print headers only, so what is
 * measured is the inbox, not a printer's expansion of 30 MiB of escapes), the
 * sink must exit 0 on SIGTERM, the bystander must wait under 100 ms for
 * each greeting and list, and the sink's peak RSS must stay under 500 MiB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { memory } from '../bench/proc-stats.js';
import { inboxUrl, startCli, type RunningCli } from '../helpers/cli.js';
import { PG_SKIP, PgCluster } from '../helpers/postgres.js';
import { exitStatus } from '../helpers/process.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';
import { BYSTANDER_BOUND_MS, bystander, drainMaildir, sendOne } from './common.js';

/** The peak RSS the hardening promises with the default bounds, in MiB. */
const PEAK_BOUND_MIB = 500;

type InboxClass = 'html' | 'big' | 'mime' | 'search' | 'listeners' | 'bodies' | 'relay' | 'store';

export interface InboxAttackReport {
  readonly seconds: number;
  readonly rounds: number;
  readonly cases: Record<InboxClass, number>;
  readonly requests: number;
  /** How many responses of each status. */
  readonly statuses: Record<string, number>;
  /** Bytes of responses read, in MiB. */
  readonly readMiB: number;
  readonly accepted: number;
  readonly inMaildir: number;
  readonly peakRssMiB: number;
  readonly worstGreetingMs: number;
  readonly worstListMs: number;
  readonly lists: number;
  readonly exitCode: number | null;
  readonly store: string;
  readonly failures: readonly string[];
}

const html = (body: string) =>
  `From: a@attacker.test\r\nTo: victim@sink.test\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n${body}\r\n`;

function controlBody(kind: number): Buffer {
  const size = 30 << 20;
  const unit = [Buffer.from([0x1b]), Buffer.from([0x00]), Buffer.from('\u009b'), Buffer.from('\u202e')][kind % 4]!;
  const body = Buffer.alloc(size);
  for (let i = 0; i + unit.length <= size; i += unit.length) unit.copy(body, i);
  return Buffer.concat([Buffer.from('Subject: big controls\r\n\r\n'), body]);
}

function nestedMime(depth: number): string {
  let mime = 'leaf';
  for (let i = depth; i > 0; i--)
    mime = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${mime}\r\n--b${i}--`;
  return `Subject: nested\r\n${mime}\r\n`;
}

/** A client that asks for an event stream and never reads a byte of it. */
async function deafListener(url: string, websocket: boolean): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve).once('error', () => resolve()));
  socket.write(
    websocket
      ? `GET /api/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
      : `GET /api/v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`,
  );
  socket.pause();
  return socket;
}

export const INBOX_CLASSES: readonly InboxClass[] = [
  'html',
  'big',
  'mime',
  'search',
  'listeners',
  'bodies',
  'relay',
  'store',
];

/** Runs the classes `only` names (default all) in rounds for `seconds`. */
export async function attackInbox(
  seconds: number,
  log: (line: string) => void = () => {},
  only: readonly string[] = INBOX_CLASSES,
): Promise<InboxAttackReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-attack-inbox-'));
  const maildir = path.join(dir, 'Maildir');
  const names = INBOX_CLASSES.filter((name) => only.includes(name));
  const failures: string[] = [];
  const fail = (what: string) => {
    if (failures.length < 100) failures.push(what);
  };
  const cases = Object.fromEntries(INBOX_CLASSES.map((name) => [name, 0])) as Record<InboxClass, number>;
  const statuses: Record<string, number> = {};
  let requests = 0;
  let readBytes = 0;
  let worstGreetingMs = 0;
  let worstListMs = 0;
  let lists = 0;
  let peak = 0;
  const upstream = await startScriptedUpstream();
  const cli: RunningCli = await startCli([
    '127.0.0.1:0',
    '--http',
    '127.0.0.1:0',
    '-o',
    'headers:/dev/null',
    '--save-dir',
    maildir,
    '--relay',
    `127.0.0.1:${upstream.port}`,
    '--relay-domains',
    'sink.test',
    '--max-connections',
    '256',
  ]);
  const url = inboxUrl(cli);
  const pid = cli.child.pid!;
  const sample = () => (peak = Math.max(peak, memory(pid).hwmKiB));

  /** One request; its body is read to the end and counted, not kept. */
  const request = async (what: string, route: string, init: RequestInit = {}, allowed = [200]): Promise<number> => {
    requests++;
    try {
      const res = await fetch(`${url}${route}`, { ...init, signal: AbortSignal.timeout(120_000) });
      for await (const chunk of res.body ?? []) readBytes += (chunk as Uint8Array).length;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (!allowed.includes(res.status))
        fail(`${what}: ${init.method ?? 'GET'} ${route.slice(0, 80)} answered ${res.status}`);
      return res.status;
    } catch (err) {
      fail(`${what}: ${route.slice(0, 80)}: ${(err as Error).message}`);
      return 0;
    }
  };
  const newest = async (limit: number, query = ''): Promise<string[]> => {
    const res = await fetch(
      `${url}/api/v1/${query ? `search?query=${encodeURIComponent(query)}&` : 'messages?'}limit=${limit}`,
    );
    const list = (await res.json()) as { messages?: { ID: string }[] };
    return (list.messages ?? []).map((m) => m.ID);
  };
  const total = async (): Promise<number> =>
    ((await (await fetch(`${url}/api/v1/messages?limit=1`)).json()) as { total: number }).total;
  /** The token of each message accepted, and of each found in the Maildir. */
  const acceptedTokens = new Set<string>();
  const savedTokens = new Set<string>();
  let nextToken = 0;
  const smtp = async (data: string | Buffer) => {
    const token = `t${nextToken++}`;
    const head = `X-Attack-Token: ${token}\r\n`;
    if (await sendOne(cli.port, typeof data === 'string' ? head + data : Buffer.concat([Buffer.from(head), data])))
      acceptedTokens.add(token);
    else fail(`a message (${data.slice(0, 40).toString()}…) was not answered 250`);
  };
  /** Reads the token of every file in the Maildir's new/, then removes the file (a long run would fill the disk). */
  const collect = () =>
    drainMaildir(maildir, (head, file) => {
      const token = /^X-Attack-Token: (t\d+)/m.exec(head)?.[1];
      if (token === undefined) fail(`${file} has no token`);
      else if (savedTokens.has(token)) fail(`${token} is in the Maildir twice`);
      else savedTokens.add(token);
    });

  let db: PgCluster | null = null;
  let storeSink: RunningCli | null = null;
  let storeNote = 'skipped: ' + String(PG_SKIP);
  if (!PG_SKIP && names.includes('store')) {
    db = await PgCluster.create();
    storeSink = await startCli(['-o', 'headers:/dev/null', '--http', '127.0.0.1:0', '--store', db.url, '127.0.0.1:0']);
    storeNote = 'a second sink with --store on a PostgreSQL cluster of its own';
  }

  const classes: Record<InboxClass, (round: number) => Promise<void>> = {
    async html(round) {
      const unclosed = '<div><b>x</b><i>'.repeat(round % 2 ? 524_288 : 65_536);
      await smtp(html(unclosed));
      await smtp(html(`${'<div>'.repeat(20_000)}deep<script>alert(1)</script>`));
      for (const id of await newest(2, 'subject:html'))
        for (const route of [
          `/api/v1/message/${id}`,
          `/api/v1/message/${id}/headers`,
          `/api/v1/message/${id}/raw`,
          `/view/${id}.html`,
          `/view/${id}.txt`,
          `/api/v1/messages/${id}`,
          `/api/v1/messages/${id}/download`,
        ])
          await request('html', route, {}, [200, 503]);
    },
    async big(round) {
      await smtp(controlBody(round));
      const ids = await newest(3, 'subject:big');
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 2
            ? request('big', `/api/v2/messages?limit=1&start=${i % 3}`, {}, [200, 503])
            : request('big', `/api/v1/message/${ids[i % ids.length]}`, {}, [200, 503]),
        ),
      );
    },
    async mime() {
      await smtp(nestedMime(4000));
      await request('mime', '/api/v2/messages?limit=5');
    },
    async search(round) {
      // 1,000 negated terms (the report's 4,000 make a URL past the 16 KiB Node's HTTP server reads).
      const negated = Array.from({ length: 1000 }, (_, i) => `-w${i}`).join(' ');
      await request('search', `/api/v1/search?query=${encodeURIComponent(negated)}`, {}, [400]);
      const terms = Array.from({ length: 32 }, (_, i) => `-t${round}x${i}`).join(' ');
      await request('search', `/api/v1/search?query=${encodeURIComponent(terms)}`, {}, [200, 503]);
      await request('search', `/api/v2/search?kind=containing&query=zz${round}`, {}, [200, 503]);
      await request('search', `/api/v1/search?query=${encodeURIComponent('a\0b')}`, {}, [400]);
    },
    // Opened at the start of each round (below), closed at its end: nothing to do in turn.
    async listeners() {},
    async bodies() {
      const before = await total();
      for (const body of ['{"IDs":[123]}', '{"IDs":"id"}', '[1]', '{"IDs":[{}]}'])
        await request('bodies', '/api/v1/messages', { method: 'DELETE', body }, [400]);
      await request('bodies', '/api/v1/messages', { method: 'PUT', body: '{"IDs":[1]}' }, [400]);
      const after = await total();
      if (after < before) fail(`bodies: a malformed body deleted ${before - after} messages`);
    },
    async relay() {
      const send = (to: string, token = 'refused') =>
        request(
          'relay',
          '/api/v1/send',
          {
            method: 'POST',
            body: JSON.stringify({
              From: { Email: 'a@sink.test' },
              To: [{ Email: to }],
              Subject: 'api relay',
              Headers: { 'X-Attack-Token': token },
              Attachments: [{ Content: Buffer.alloc(200 << 10, 1).toString('base64'), Filename: 'a.bin' }],
            }),
          },
          to.endsWith('@sink.test') ? [200] : [400, 403, 550],
        );
      const token = `t${nextToken++}`;
      if ((await send('user@sink.test', token)) === 200) acceptedTokens.add(token);
      await send('victim@elsewhere.test');
      const [id] = await newest(1);
      if (id)
        await request(
          'relay',
          `/api/v1/message/${id}/release`,
          { method: 'POST', body: JSON.stringify({ To: ['outsider@elsewhere.test'] }) },
          [400, 403, 550],
        );
      for (const m of upstream.messages)
        if (m.rcptTo.some((r) => !r.endsWith('@sink.test'))) fail(`relay: the upstream got ${m.rcptTo.join(', ')}`);
      upstream.messages.length = 0;
    },
    async store(round) {
      if (!storeSink) return;
      const port = storeSink.port;
      const results = await Promise.all([
        sendOne(port, `Subject: nul\0subject ${round}\r\n\r\ntext \0 with NUL\r\n`),
        sendOne(
          port,
          `To: ${Array.from({ length: 40_000 }, (_, i) => `r${i}@x.test`).join(', ')}\r\nSubject: wide\r\n\r\nx`,
        ),
        ...Array.from({ length: 5 }, (_, i) => sendOne(port, `Subject: bystander ${round}.${i}\r\n\r\nx`)),
      ]);
      const refused = results.filter((ok) => !ok).length;
      if (refused > 0) fail(`store round ${round}: ${refused} of ${results.length} not answered 250`);
      const res = await fetch(`${inboxUrl(storeSink)}/api/v1/search?query=${encodeURIComponent('a\0b')}`);
      await res.arrayBuffer();
      if (res.status !== 400) fail(`store: a NUL search answered ${res.status}`);
    },
  };

  const started = Date.now();
  let rounds = 0;
  try {
    for (let round = 0; Date.now() - started < seconds * 1000 && round < 100_000; round++) {
      const deaf = await Promise.all(Array.from({ length: 8 }, (_, i) => deafListener(url, i % 2 === 1)));
      const {
        worstMs,
        worstHttpMs,
        lists: n,
        listFailures,
      } = await bystander(
        cli.port,
        (async () => {
          for (const name of names) {
            await classes[name](round);
            cases[name]++;
            sample();
            if (cli.child.exitCode !== null)
              throw new Error(`the sink died during ${name}: ${cli.stderr().slice(-2000)}`);
          }
        })(),
        url,
      );
      for (const s of deaf) s.destroy();
      rounds++;
      lists += n;
      worstGreetingMs = Math.max(worstGreetingMs, worstMs);
      worstListMs = Math.max(worstListMs, worstHttpMs);
      if (worstMs >= BYSTANDER_BOUND_MS) fail(`round ${round}: a greeting took ${worstMs.toFixed(0)} ms`);
      if (worstHttpMs >= BYSTANDER_BOUND_MS) fail(`round ${round}: an inbox list took ${worstHttpMs.toFixed(0)} ms`);
      for (const f of listFailures) fail(`round ${round}: the bystander's list: ${f}`);
      if (peak / 1024 >= PEAK_BOUND_MIB) fail(`round ${round}: peak RSS ${(peak / 1024).toFixed(0)} MiB`);
      await collect();
      db?.clearMessages();
      log(
        `attack inbox: round ${round + 1}, ${acceptedTokens.size} accepted, ${requests} requests, peak ${(peak / 1024).toFixed(0)} MiB, ` +
          `worst greeting ${worstGreetingMs.toFixed(1)} ms, worst list ${worstListMs.toFixed(1)} ms`,
      );
    }
  } catch (err) {
    fail((err as Error).message);
  }
  cli.child.kill('SIGTERM');
  const { code } = await exitStatus(cli.child, 30_000);
  if (code !== 0) fail(`the sink exited ${code} on SIGTERM`);
  if (storeSink && (await storeSink.stop('SIGTERM')).code !== 0) fail('the --store sink did not exit 0');
  db?.remove();
  await upstream.close();
  await collect();
  const lost = [...acceptedTokens].filter((t) => !savedTokens.has(t));
  const extra = [...savedTokens].filter((t) => !acceptedTokens.has(t));
  if (lost.length > 0) fail(`accepted but not in the Maildir: ${lost.slice(0, 10).join(', ')}`);
  if (extra.length > 0) fail(`in the Maildir but not accepted: ${extra.slice(0, 10).join(', ')}`);
  await rm(dir, { recursive: true, force: true });
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    rounds,
    cases,
    requests,
    statuses,
    readMiB: Math.round(readBytes / (1 << 20)),
    accepted: acceptedTokens.size,
    inMaildir: savedTokens.size,
    peakRssMiB: Math.round(peak / 1024),
    worstGreetingMs: Math.round(worstGreetingMs * 10) / 10,
    worstListMs: Math.round(worstListMs * 10) / 10,
    lists,
    exitCode: code,
    store: storeNote,
    failures,
  };
}
