/**
 * `--workers 2` through the real CLI: every accepted message in the outputs
 * exactly once and whole (never interleaved with another worker's),
 * `--exit-after` counted across workers, `--max-connections` and the
 * expectations too, SIGTERM finishing a message in flight, and the flags it
 * refuses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertUsageError, inboxUrl, startCli } from '../helpers/cli.js';
import { exitStatus } from '../helpers/process.js';
import { SmtpClient, sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { until } from '../helpers/until.js';

/** A message whose every line names it, so that a message mixed with another shows. */
function tagged(tag: string): string {
  const lines = Array.from({ length: 200 }, (_, i) => `${tag} line ${i} ${'x'.repeat(60)}`);
  return `Subject: ${tag}\r\n\r\n${lines.join('\r\n')}`;
}

/** The raw output cut into messages: each block's lines, between the framing lines. */
function blocks(raw: string): string[][] {
  return raw
    .split('---------- MESSAGE FOLLOWS ----------\n')
    .slice(1)
    .map((b) => b.split('------------ END MESSAGE ------------\n')[0]!.split('\n'));
}

describe('--workers 2', () => {
  const dir = tempDir('workers');

  it('writes every accepted message exactly once and whole, and exits after N across workers', async () => {
    const raw = dir.join('raw.txt');
    const json = dir.join('out.jsonl');
    const cli = await startCli([
      '-n',
      '--workers',
      '2',
      '--exit-after',
      '40',
      '--output',
      raw,
      '--output',
      `json:${json}`,
      '127.0.0.1:0',
    ]);
    assert.match(cli.stderr(), /2 workers/);
    const tags = Array.from({ length: 40 }, (_, i) => `m${i}`);
    // Eight senders at once, five messages each.
    await Promise.all(
      Array.from({ length: 8 }, async (_, s) => {
        for (let k = 0; k < 5; k++) {
          const codes = await sendMail(cli.port, {
            from: 'a@x.test',
            to: ['b@x.test'],
            data: tagged(tags[s * 5 + k]!),
          });
          assert.equal(codes.at(-2), 250);
        }
      }),
    );
    const status = await exitStatus(cli.child);
    assert.deepEqual(status, { code: 0, signal: null }, cli.stderr());
    const messages = blocks(await readFile(raw, 'utf8'));
    assert.equal(messages.length, 40);
    const seen = new Set<string>();
    for (const lines of messages) {
      const tag = lines.find((l) => l.startsWith('Subject: '))!.slice('Subject: '.length);
      assert.ok(!seen.has(tag), `${tag} written twice`);
      seen.add(tag);
      const body = lines.filter((l) => / line \d+ /.test(l));
      assert.equal(body.length, 200);
      assert.ok(
        body.every((l) => l.startsWith(`${tag} line `)),
        `message ${tag} is mixed with another`,
      );
    }
    assert.deepEqual([...seen].sort(), [...tags].sort());
    const records = (await readFile(json, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string });
    assert.equal(records.length, 40);
    const pids = new Set(records.map((r) => r.id.split('.')[0]));
    assert.equal(pids.size, 2, 'both workers took messages');
  });

  it('finishes a message in flight on SIGTERM, then every worker exits', async () => {
    const cli = await startCli(['-n', '--workers', '2', '127.0.0.1:0']);
    const client = await SmtpClient.connect(cli.port);
    await client.read();
    await client.enterData();
    client.write('Subject: in flight\r\n\r\nfirst half\r\n');
    const exit = cli.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    client.write('second half\r\n.\r\n');
    assert.equal((await client.read()).code, 250);
    client.close();
    assert.deepEqual(await exit, { code: 0, signal: null });
    assert.match(cli.stdout(), /Subject: in flight\nX-Peer: 127\.0\.0\.1\n\nfirst half\nsecond half\n/);
  });

  it('replaces a worker that dies, and leaves no worker behind at exit', async () => {
    const cli = await startCli(['-n', '--workers', '2', '-f', 'json', '127.0.0.1:0']);
    const workers = () =>
      readFileSync(`/proc/${cli.child.pid}/task/${cli.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    const [first] = workers();
    process.kill(Number(first), 'SIGKILL');
    await until(() => /worker \d+ exited \(SIGKILL\); starting another/.test(cli.stderr()), 10_000, 'the replacement');
    await until(() => workers().length === 2 && !workers().includes(first!), 10_000, 'two workers again');
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: 'Subject: after\r\n\r\nx' })).at(-2),
        250,
      );
    const left = workers();
    assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal(cli.stdout().trim().split('\n').length, 4);
    for (const pid of left)
      assert.ok(
        !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'),
        `worker ${pid} still runs`,
      );
  });

  it('withdraws a message its worker wrote but died before answering, and keeps serving', async () => {
    // The second output is a FIFO nobody reads yet, its pipe 64 KiB: the first message (36 KiB) fits, the
    // second does not, so the primary's write of it to the FIFO waits while the file already has it whole
    // (a text under 64 KiB is written at once), and the second message's worker is killed in that gap.
    const json = dir.join('died.jsonl');
    const fifo = dir.join('died.fifo');
    const maildir = dir.join('died-maildir');
    execFileSync('mkfifo', [fifo]);
    const reader = createReadStream(fifo);
    const cli = await startCli([
      '-n',
      '--workers',
      '2',
      '--output',
      `json:${json}`,
      '--output',
      `json:${fifo}`,
      '--save-dir',
      maildir,
      '127.0.0.1:0',
    ]);
    const drained: Buffer[] = [];
    const drain = () => {
      if (reader.listenerCount('data') === 0) reader.on('data', (b: string | Buffer) => drained.push(Buffer.from(b)));
    };
    const body = (subject: string) => `Subject: ${subject}\r\n\r\n${`${'y'.repeat(70)}\r\n`.repeat(500)}`;
    // Whole lines only: a line the primary is still writing has no LF yet.
    const lines = () => (existsSync(json) ? readFileSync(json, 'utf8').split('\n').slice(0, -1) : []);
    try {
      assert.equal((await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: body('fits') })).at(-2), 250);
      const client = await SmtpClient.connect(cli.port);
      await client.read();
      await client.enterData();
      client.write(`${body('dies')}\r\n.\r\n`);
      await until(() => lines().length === 2, 10_000, 'the second message in the first output');
      const id = (JSON.parse(lines()[1]!) as { id: string }).id;
      assert.equal((await readdir(path.join(maildir, 'new'))).length, 2);
      process.kill(Number(id.split('.')[0]), 'SIGKILL');
      await assert.rejects(client.read(10_000), /connection closed/, 'no reply reached the client');
      drain();
      const withdrawn = (text: string) =>
        text
          .split('\n')
          .slice(0, -1) // complete lines only: the FIFO is read as it comes
          .map((l) => JSON.parse(l) as { type: string; id: string; reason?: string })
          .filter((r) => r.type === 'withdrawn');
      await until(() => withdrawn(Buffer.concat(drained).toString()).length === 1, 10_000, 'the FIFO’s withdrawal');
      await until(() => withdrawn(readFileSync(json, 'utf8')).length === 1, 10_000, 'the file’s withdrawal');
      for (const record of [...withdrawn(readFileSync(json, 'utf8')), ...withdrawn(Buffer.concat(drained).toString())])
        assert.deepEqual(
          { id: record.id, reason: record.reason },
          { id, reason: `worker ${id.split('.')[0]} exited (SIGKILL)` },
        );
      assert.equal((await readdir(path.join(maildir, 'new'))).length, 1, 'its Maildir file is removed, not the other');
      assert.match(cli.stderr(), /exited \(SIGKILL\); starting another/);
      const codes = await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: 'Subject: next\r\n\r\nx' });
      assert.equal(codes.at(-2), 250, 'the sink still serves');
    } finally {
      drain();
      assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null }, cli.stderr());
      reader.destroy();
    }
  });

  it('counts --max-connections across workers', async () => {
    const cli = await startCli(['-n', '--workers', '2', '--max-connections', '2', '127.0.0.1:0']);
    try {
      const open = [await SmtpClient.connect(cli.port), await SmtpClient.connect(cli.port)];
      for (const c of open) assert.equal((await c.read()).code, 220);
      const third = await SmtpClient.connect(cli.port);
      assert.equal((await third.read()).code, 421);
      for (const c of [...open, third]) c.close();
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('counts --connection-rate across workers, and each worker delivers into the one Maildir', async () => {
    const maildir = dir.join('maildir');
    const cli = await startCli([
      '-n',
      '--workers',
      '2',
      '--connection-rate',
      '3/60',
      '--save-dir',
      maildir,
      '127.0.0.1:0',
    ]);
    try {
      const codes = [];
      for (let i = 0; i < 4; i++)
        codes.push(
          (
            await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: `Subject: r${i}\r\n\r\nx` }).catch(
              () => [421],
            )
          )[0],
        );
      assert.deepEqual(codes, [220, 220, 220, 421], 'the fourth connection in the window is refused');
      const files = await readdir(path.join(maildir, 'new'));
      assert.equal(files.length, 3);
      assert.equal(
        new Set(files.map((f) => /P(\d+)Q/.exec(f)![1])).size,
        2,
        'both workers wrote, each under its own pid',
      );
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('judges the expectations over every worker’s messages', async () => {
    const cli = await startCli([
      '-n',
      '--workers',
      '2',
      '--exit-after',
      '4',
      '--expect-count',
      '4',
      '--expect',
      'subject~late',
      '127.0.0.1:0',
    ]);
    await Promise.all(
      ['early', 'late', 'late', 'early'].map((s) =>
        sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data: `Subject: ${s}\r\n\r\nx` }),
      ),
    );
    const status = await exitStatus(cli.child);
    assert.equal(status.code, 0, cli.stderr());
    assert.match(cli.stderr(), /--expect-count 4: 4 messages accepted/);
    assert.match(cli.stderr(), /--expect 'subject~late': 2 messages matched/);
  });

  it('keeps one inbox with --http: every worker’s messages in it before their 250, the send API through a worker', async () => {
    const maildir = dir.join('inbox-maildir');
    const cli = await startCli(['-n', '--workers', '2', '--http', '127.0.0.1:0', '--save-dir', maildir, '127.0.0.1:0']);
    try {
      const url = inboxUrl(cli);
      const subjects = Array.from({ length: 24 }, (_, i) => `inbox m${i}x`);
      // Six senders at once, each asking the inbox right after its 250: the message must be there already.
      await Promise.all(
        Array.from({ length: 6 }, async (_, s) => {
          for (let k = 0; k < 4; k++) {
            const subject = subjects[s * 4 + k]!;
            const codes = await sendMail(cli.port, {
              from: 'a@x.test',
              to: ['b@x.test'],
              data: `Subject: ${subject}\r\n\r\nx`,
            });
            assert.equal(codes.at(-2), 250);
            const found = (await (
              await fetch(`${url}/api/v1/search?query=${encodeURIComponent(`subject:"${subject}"`)}`)
            ).json()) as {
              messages_count: number;
            };
            assert.equal(found.messages_count, 1, `${subject} is in the inbox after its 250`);
          }
        }),
      );
      const list = (await (await fetch(`${url}/api/v1/messages?limit=100`)).json()) as {
        total: number;
        messages: { ID: string; Subject: string }[];
      };
      assert.equal(list.total, 24);
      assert.deepEqual(list.messages.map((m) => m.Subject).sort(), [...subjects].sort());
      const workers = new Set<string>();
      for (const m of list.messages) {
        const one = (await (await fetch(`${url}/api/v1/message/${m.ID}`)).json()) as { SmtpdTs: { id: string } };
        workers.add(one.SmtpdTs.id.split('.')[0]!);
      }
      assert.equal(workers.size, 2, 'both workers took messages');
      const sent = await fetch(`${url}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          From: { Email: 'api@x.test' },
          To: [{ Email: 'b@x.test' }],
          Subject: 'by the API',
          Text: 'hi',
        }),
      });
      assert.equal(sent.status, 200);
      const { ID } = (await sent.json()) as { ID: string };
      const got = (await (await fetch(`${url}/api/v1/message/${ID}`)).json()) as { Subject: string };
      assert.equal(got.Subject, 'by the API');
      assert.equal((await readdir(path.join(maildir, 'new'))).length, 25);
      // A delete through the API removes the Maildir file a worker wrote.
      assert.equal((await fetch(`${url}/api/v1/messages`, { method: 'DELETE' })).status, 200);
      await until(async () => (await readdir(path.join(maildir, 'new'))).length === 0, 5000, 'the files to go');
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('refuses --workers 0 and --workers with scripted replies, with one line and exit 2', () => {
    for (const args of [
      ['--workers', '0'],
      ['--workers', '2', '--reply', 'MAIL=451 try later'],
      ['--workers', '65'],
    ])
      assertUsageError(args);
  });
});
