/**
 * The memory budget for message bodies: the rules with a fake clock, then
 * over real sockets: many large messages at once all arrive whole with the
 * budget far below their sum, and a client that stalls mid-message does
 * not stop the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBudget, PROGRESS_BYTES, STALLED_MS } from '../../src/server/body-budget.js';
import { SMTPServer } from '../../src/server/server.js';
import type { Message } from '../../src/message.js';
import { SmtpClient } from '../helpers/smtp-client.js';

describe('BodyBudget', () => {
  it('lets everyone read under the limit, only the first holder past it', () => {
    const now = 0;
    const budget = new BodyBudget(100, () => now);
    const [a, b, c] = [{}, {}, {}];
    budget.set(a, 60);
    assert.ok(budget.mayRead(b));
    budget.set(b, 60);
    assert.equal(budget.held, 120);
    assert.ok(budget.mayRead(a), 'the first holder goes on');
    assert.ok(!budget.mayRead(b));
    assert.ok(!budget.mayRead(c), 'a newcomer waits');
    budget.release(a);
    assert.equal(budget.held, 60);
    assert.ok(budget.mayRead(b) && budget.mayRead(c));
  });

  it('passes over a first holder that has stopped making progress', () => {
    let now = 0;
    const budget = new BodyBudget(100, () => now);
    const [a, b] = [{}, {}];
    budget.set(a, 200);
    budget.set(b, 10);
    assert.ok(!budget.mayRead(b));
    now = STALLED_MS - 1;
    budget.set(a, 201); // a trickle is not progress
    assert.ok(!budget.mayRead(b));
    now = STALLED_MS + 1;
    assert.ok(budget.mayRead(b), 'a has received less than PROGRESS_BYTES within STALLED_MS');
    budget.set(a, 200 + PROGRESS_BYTES);
    assert.ok(!budget.mayRead(b), 'a is progressing again');
  });

  it('wakes the waiting when bytes are let go, and at the latest after STALLED_MS', async () => {
    const budget = new BodyBudget(10);
    const a = {};
    budget.set(a, 20);
    let woken = 0;
    budget.wait(() => woken++);
    budget.release(a);
    assert.equal(woken, 1);
    budget.set(a, 20);
    const started = performance.now();
    // The budget's own timer does not keep a process alive (a waiting socket does).
    const alive = setTimeout(() => {}, 2 * STALLED_MS);
    await new Promise<void>((resolve) => budget.wait(resolve));
    clearTimeout(alive);
    assert.ok(performance.now() - started >= STALLED_MS - 50);
    const cancel = budget.wait(() => woken++);
    cancel();
    budget.release(a);
    assert.equal(woken, 1, 'a cancelled wait is not called');
  });

  it('has no limit at 0', () => {
    const budget = new BodyBudget(0);
    budget.set({}, 1e9);
    assert.ok(budget.mayRead({}));
  });
});

const MiB = 1024 * 1024;

/** A message of about `size` bytes whose lines say which client sent it. */
function bigMessage(tag: string, size: number): Buffer {
  const line = `${tag} ${'x'.repeat(70)}\r\n`;
  return Buffer.from(`Subject: ${tag}\r\n\r\n${line.repeat(Math.ceil(size / line.length))}`);
}

async function startServer(budget: number, seen: Message[]): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, {
    bodyBudget: budget,
    handler: { handleMessage: (m) => void seen.push(m) },
  });
  const { port } = await server.listen();
  return { server, port };
}

async function send(port: number, data: Buffer): Promise<number> {
  const client = await SmtpClient.connect(port);
  await client.read();
  await client.command('EHLO budget.test');
  await client.command('MAIL FROM:<a@budget.test>');
  await client.command('RCPT TO:<b@budget.test>');
  assert.equal((await client.command('DATA')).code, 354);
  client.write(Buffer.concat([data, Buffer.from('.\r\n')]));
  const reply = await client.read(20_000);
  client.close();
  return reply.code;
}

describe('the body budget over real sockets', () => {
  it('takes six 2 MiB messages at once with a 1 MiB budget, each whole', async () => {
    const seen: Message[] = [];
    const { server, port } = await startServer(MiB, seen);
    try {
      const messages = ['a', 'b', 'c', 'd', 'e', 'f'].map((tag) => bigMessage(tag, 2 * MiB));
      const codes = await Promise.all(messages.map((m) => send(port, m)));
      assert.deepEqual(codes, [250, 250, 250, 250, 250, 250]);
      assert.equal(seen.length, 6);
      for (const m of messages)
        assert.ok(
          seen.some((s) => s.data.equals(m)),
          'a message arrived whole',
        );
      assert.equal(server.budget.held, 0, 'every byte let go');
    } finally {
      await server.close(100);
    }
  });

  it('does not let a client that stalls mid-message hold up the others', async () => {
    const seen: Message[] = [];
    const { server, port } = await startServer(MiB, seen);
    const staller = await SmtpClient.connect(port);
    try {
      await staller.read();
      await staller.command('EHLO staller.test');
      await staller.command('MAIL FROM:<s@budget.test>');
      await staller.command('RCPT TO:<b@budget.test>');
      await staller.command('DATA');
      staller.write(bigMessage('stall', 2 * MiB)); // no end of data: it stops here
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(server.budget.held > MiB, 'the staller holds more than the budget');
      const started = performance.now();
      assert.equal(await send(port, bigMessage('other', 2 * MiB)), 250);
      assert.ok(performance.now() - started < 10_000);
      assert.equal(seen.length, 1);
    } finally {
      staller.close();
      await server.close(100);
    }
  });
});
