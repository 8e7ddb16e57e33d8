/**
 * The shared sink: smtpd-ts instances on one real PostgreSQL cluster (made
 * by test/helpers/postgres.ts in a temporary folder) behind a real HAProxy
 * with `send-proxy-v2`. Mail sent to the balancer is listed by every
 * instance and streamed live to a WebSocket on the other; an instance
 * killed in the middle of a load loses nothing it answered 250 for and
 * duplicates nothing; a database stopped under load gets 451s and service
 * resumes by itself. Loads are bounded in count and time.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { spawnSync } from 'node:child_process';
import { assertUsageError, inboxUrl, NODE_ARGS, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { Balancer, HAPROXY_SKIP } from '../helpers/haproxy.js';
import { PG_SKIP, PgCluster } from '../helpers/postgres.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { until } from '../helpers/until.js';

/** One message over a new connection; the reply to its data (0 when the connection failed before it). */
async function deliver(port: number, subject: string, to = 'user@example.test'): Promise<number> {
  let code = 0;
  let client: SmtpClient | undefined;
  try {
    client = await SmtpClient.connect(port);
    await client.read();
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<app@example.test>');
    await client.command(`RCPT TO:<${to}>`);
    if ((await client.command('DATA')).code !== 354) return 0;
    client.write(`From: app@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n.\r\n`);
    code = (await client.read()).code;
    await client.command('QUIT').catch(() => {});
  } catch {
    // A connection cut (an instance killed): what was answered is in `code`.
  } finally {
    client?.close();
  }
  return code;
}

async function subjects(cli: RunningCli, query = ''): Promise<string[]> {
  const route = query ? `/api/v1/search?query=${encodeURIComponent(query)}&limit=250` : '/api/v1/messages?limit=250';
  const page = (await (await fetch(`${inboxUrl(cli)}${route}`)).json()) as { messages: { Subject: string }[] };
  return page.messages.map((m) => m.Subject).sort();
}

describe('a shared sink on PostgreSQL', { skip: PG_SKIP || HAPROXY_SKIP, timeout: 240_000 }, () => {
  let db: PgCluster;
  const running: RunningCli[] = [];
  const balancers: Balancer[] = [];

  before(async () => {
    db = await PgCluster.create();
  });
  beforeEach(() => {
    db.clearMessages();
  });
  afterEach(async () => {
    for (const b of balancers.splice(0)) await b.stop();
    for (const cli of running.splice(0)) if (cli.child.exitCode === null) await cli.stop('SIGTERM');
  });
  after(() => db?.remove());

  const instance = async (...args: string[]): Promise<RunningCli> => {
    const cli = await startCli([
      '-n',
      '-f',
      'headers',
      '--http',
      '127.0.0.1:0',
      '--store',
      db.url,
      ...args,
      '127.0.0.1:0',
    ]);
    running.push(cli);
    return cli;
  };
  const rows = (where = 'true') => db.sql(`SELECT subject FROM smtpd_ts_messages WHERE ${where} ORDER BY subject`);

  it('lists mail sent to the balancer on every instance, live on a WebSocket of the other, and shares deletes and read marks', async () => {
    const boxes = ['--mailbox', 'team-a=*@a.example'];
    const a = await instance('--proxy-protocol', ...boxes);
    const b = await instance('--proxy-protocol', ...boxes);
    const lb = await Balancer.start([a.port, b.port]);
    balancers.push(lb);
    const frames: { Type: string; Data: { Subject?: string } }[] = [];
    const ws = new WebSocket(`${inboxUrl(b).replace('http:', 'ws:')}/api/events`);
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as (typeof frames)[number]));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const sent = ['one', 'two', 'three', 'four', 'five', 'six'];
    for (const subject of sent) assert.equal(await deliver(lb.port, subject, 'dev@a.example'), 250);
    for (const cli of [a, b])
      await until(async () => (await subjects(cli)).length === 6, 5000, 'every instance to list six');
    assert.deepEqual(await subjects(a), [...sent].sort());
    assert.deepEqual(await subjects(b, 'tag:team-a'), [...sent].sort(), 'the mailbox travels with the row');
    // Round robin: each instance accepted some; B's WebSocket saw A's too.
    const acceptedByA = sent.filter((s) => a.stdout().includes(`Subject: ${s}\n`));
    assert.ok(acceptedByA.length > 0 && acceptedByA.length < 6, `A accepted ${acceptedByA.join(', ')}`);
    await until(() => frames.filter((f) => f.Type === 'new').length === 6, 5000, 'six new frames on B');
    for (const s of acceptedByA)
      assert.ok(
        frames.some((f) => f.Type === 'new' && f.Data.Subject === s),
        s,
      );
    ws.close();
    // A delete through A is gone from B and from the database; a read mark through B shows on A.
    const listA = (await (await fetch(`${inboxUrl(a)}/api/v1/search?query=subject:one`)).json()) as {
      messages: { ID: string }[];
    };
    const id = listA.messages[0]!.ID;
    await fetch(`${inboxUrl(a)}/api/v1/messages`, { method: 'DELETE', body: JSON.stringify({ IDs: [id] }) });
    await until(async () => !(await subjects(b)).includes('one'), 5000, 'B to drop the deleted message');
    assert.doesNotMatch(rows(), /^one$/m);
    await fetch(`${inboxUrl(b)}/api/v1/messages`, { method: 'PUT', body: JSON.stringify({ Read: true }) });
    await until(
      async () => ((await (await fetch(`${inboxUrl(a)}/api/v1/messages`)).json()) as { unread: number }).unread === 0,
      5000,
      'A to see them read',
    );
    assert.equal(db.sql('SELECT count(*) FROM smtpd_ts_messages WHERE NOT read'), '0');
  });

  it('loses nothing it answered 250 for, and stores nothing twice, when an instance is killed in the middle of a load', async () => {
    const a = await instance('--proxy-protocol', '--max-messages', '0');
    const b = await instance('--proxy-protocol', '--max-messages', '0');
    const lb = await Balancer.start([a.port, b.port]);
    balancers.push(lb);
    const codes = new Map<string, number>();
    let next = 0;
    const total = 240;
    const sender = async () => {
      for (let i = next++; i < total; i = next++) {
        const subject = `load-${String(i).padStart(3, '0')}`;
        codes.set(subject, await deliver(lb.port, subject));
        if (i === 60) b.child.kill('SIGKILL');
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    const accepted = [...codes].filter(([, c]) => c === 250).map(([s]) => s);
    assert.ok(accepted.length >= 150, `only ${accepted.length} of ${total} accepted`);
    const stored = rows().split('\n');
    const counts = new Map<string, number>();
    for (const s of stored) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const s of accepted) assert.equal(counts.get(s), 1, `${s} got 250 and is stored ${counts.get(s) ?? 0} times`);
    for (const [s, n] of counts) assert.equal(n, 1, `${s} is stored ${n} times`);
    // The survivor lists everything the database holds.
    await until(async () => (await subjects(a)).length === stored.length, 5000, 'A to list every stored message');
  });

  it('answers 451 while the database is down, loses nothing accepted, and resumes by itself', async () => {
    const a = await instance('--max-messages', '0');
    const codes = new Map<string, number>();
    let afterRestart = 0;
    for (let i = 0; i < 400 && afterRestart < 20; i++) {
      const subject = `restart-${String(i).padStart(3, '0')}`;
      const code = await deliver(a.port, subject);
      codes.set(subject, code);
      if (i === 20) db.stop();
      if (i === 40) db.start();
      if (i > 40 && code === 250) afterRestart++;
    }
    const all = [...codes];
    assert.ok(
      all.slice(21, 41).every(([, c]) => c === 451),
      'every message while the database is down gets 451',
    );
    assert.ok(all.slice(0, 21).every(([, c]) => c === 250));
    assert.equal(afterRestart, 20, 'service resumed by itself');
    const accepted = all.filter(([, c]) => c === 250).map(([s]) => s);
    assert.deepEqual(rows().split('\n'), accepted.sort(), 'every 250 is stored once, no 451 is');
    await until(async () => (await subjects(a)).length === accepted.length, 10_000, 'the inbox to list them all');
    // The LISTEN connection comes back too (its backoff is at most 5 s).
    await until(() => /--store: connected to the database again/.test(a.stderr()), 10_000, 'LISTEN to reconnect');
  });

  it('answers Mailpit’s query language by SQL as the embedded store answers it', async () => {
    const pg = await instance('--mailbox', 'team-a=*@a.example');
    const embedded = await startCli([
      '-n',
      '-f',
      'headers',
      '--http',
      '127.0.0.1:0',
      '--mailbox',
      'team-a=*@a.example',
      '127.0.0.1:0',
    ]);
    running.push(embedded);
    const mails = [
      ['Alice <alice@x.example>', 'dev@a.example', 'Reset your password', 'Click the reset link', ''],
      ['Bob <bob@y.example>', 'ops@b.example', 'Invoice 42 attached', 'Your invoice', 'attachment'],
      ['Alice <alice@x.example>', 'ops@b.example', 'Weekly digest', 'News about passwords', ''],
      ['Carol <carol@z.example>', 'dev@a.example', 'Welcome aboard', 'Your password is safe with us', ''],
    ];
    for (const cli of [pg, embedded])
      for (const [from, to, subject, text, extra] of mails) {
        const client = await SmtpClient.connect(cli.port);
        await client.read();
        await client.command('EHLO client.test');
        await client.command('MAIL FROM:<app@example.test>');
        await client.command(`RCPT TO:<${to}>`);
        await client.command('DATA');
        const body =
          extra === 'attachment'
            ? `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--b--\r\n`
            : `\r\n${text}\r\n`;
        client.write(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n${body}.\r\n`);
        assert.equal((await client.read()).code, 250);
        await client.command('QUIT');
        client.close();
      }
    for (const query of [
      'from:alice',
      'to:ops@b.example',
      'subject:invoice',
      'invoice',
      '"your password"',
      '-from:alice',
      'tag:team-a',
      'has:attachment',
      'is:unread larger:10',
      'smaller:1 ',
      'after:2000-01-01 from:alice subject:weekly',
      '!tag:team-a news',
    ]) {
      const [fromPg, fromMemory] = [await subjects(pg, query), await subjects(embedded, query)];
      assert.deepEqual(fromPg, fromMemory, query);
    }
    assert.deepEqual(
      await subjects(pg, 'password'),
      ['Reset your password', 'Welcome aboard'],
      'whole words by full-text search',
    );
  });

  it('keeps the table within --max-messages, one instance pruning at a time', async () => {
    const a = await instance('--max-messages', '5');
    const b = await instance('--max-messages', '5');
    for (let i = 0; i < 12; i++)
      assert.equal(await deliver(i % 2 ? a.port : b.port, `kept-${String(i).padStart(2, '0')}`), 250);
    await until(() => db.sql('SELECT count(*) FROM smtpd_ts_messages') === '5', 5000, 'the table pruned to 5');
    assert.deepEqual(rows().split('\n'), ['kept-07', 'kept-08', 'kept-09', 'kept-10', 'kept-11']);
    for (const cli of [a, b]) await until(async () => (await subjects(cli)).length === 5, 5000, 'the mirrors pruned');
  });

  it('stores what the embedded store accepts: NUL in a subject, 40,000 addresses, and no bystander sharing its commit fails', async () => {
    const a = await instance();
    const hostile = async (headers: string): Promise<number> => {
      const c = await SmtpClient.connect(a.port);
      try {
        await c.read();
        await c.command('EHLO client.test');
        await c.command('MAIL FROM:<app@example.test>');
        await c.command('RCPT TO:<user@example.test>');
        await c.command('DATA');
        c.write(`${headers}\r\n\r\nbody\0text\r\n.\r\n`);
        return (await c.read()).code;
      } finally {
        c.close();
      }
    };
    const many = Array.from({ length: 40_000 }, (_, i) => `u${i}@example.test`).join(', ');
    const codes = await Promise.all([
      hostile('Subject: nul\0here'),
      hostile(`Subject: many\r\nTo: ${many}`),
      ...Array.from({ length: 20 }, (_, i) => deliver(a.port, `bystander-${String(i).padStart(2, '0')}`)),
    ]);
    assert.deepEqual(codes, Array(22).fill(250));
    assert.equal(db.sql("SELECT count(*) FROM smtpd_ts_messages WHERE subject LIKE 'bystander-%'"), '20');
    assert.equal(db.sql("SELECT count(*) FROM smtpd_ts_messages WHERE subject IN ('many', 'nul\uFFFDhere')"), '2');
    const search = await fetch(`${inboxUrl(a)}/api/v1/search?query=${encodeURIComponent('nul\0')}`);
    assert.equal(search.status, 400);
  });

  it('runs --workers on the database: each worker keeps its messages there, the primary serves them', async () => {
    const cli = await instance('--workers', '2');
    const sent = Array.from({ length: 12 }, (_, i) => `worker mail ${i}`);
    const codes = await Promise.all(sent.map((subject) => deliver(cli.port, subject)));
    assert.deepEqual(new Set(codes), new Set([250]));
    // In the table before each 250; the primary's list reads the table.
    assert.equal(rows().split('\n').length, 12);
    assert.deepEqual(await subjects(cli), [...sent].sort());
    const page = (await (await fetch(`${inboxUrl(cli)}/api/v1/messages?limit=250`)).json()) as {
      messages: { ID: string }[];
    };
    const pids = new Set<string>();
    for (const m of page.messages) {
      const one = (await (await fetch(`${inboxUrl(cli)}/api/v1/message/${m.ID}`)).json()) as {
        SmtpdTs: { id: string };
      };
      pids.add(one.SmtpdTs.id.split('.')[0]!);
    }
    assert.equal(pids.size, 2, 'both workers took messages');
  });

  it('keeps a mailbox within its own bound in the table, whatever the others hold', async () => {
    const boxes = ['--max-messages', '100', '--mailbox', 'small=*@s.example;max-messages=2'];
    const a = await instance(...boxes);
    const b = await instance(...boxes);
    for (let i = 0; i < 4; i++) assert.equal(await deliver(a.port, `small-${i}`, 'x@s.example'), 250);
    for (let i = 0; i < 3; i++) assert.equal(await deliver(b.port, `other-${i}`), 250);
    await until(
      () => db.sql("SELECT count(*) FROM smtpd_ts_messages WHERE mailbox = 'small'") === '2',
      5000,
      'small pruned',
    );
    assert.deepEqual(rows().split('\n'), ['other-0', 'other-1', 'other-2', 'small-2', 'small-3']);
    await until(async () => (await subjects(b, 'tag:small')).length === 2, 5000, 'the mirrors pruned');
  });
});

describe('--store refusals', () => {
  it('refuses a URL that is not postgres://, and --store without --http, with exit 2', () => {
    assertUsageError(['-n', '--http', '127.0.0.1:0', '--store', 'mysql://a@b/c']);
    assertUsageError(['-n', '--store', 'postgres://a@127.0.0.1/c']);
  });

  it('fails the start with one line, password hidden, when the database cannot be reached', () => {
    const url = 'postgres://smtpd:hunter2@127.0.0.1:1/mail';
    const run = spawnSync(
      process.execPath,
      [...NODE_ARGS, '-n', '--http', '127.0.0.1:0', '--store', url, '127.0.0.1:0'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /^smtpd-ts: cannot use the --store database postgres:\/\/smtpd:\*\*\*@127\.0\.0\.1:1\/mail: .*ECONNREFUSED/,
    );
    assert.doesNotMatch(run.stderr, /hunter2/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  });
});
