/**
 * `--webhook`: each new message posted to a receiver the test runs on
 * loopback (so every case but the refusals names --webhook-allow-internal),
 * through the real CLI and real SMTP sessions.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { assertUsageError, startCli, type RunningCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { until } from '../helpers/until.js';

interface Posted {
  readonly at: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** A receiver on loopback that records each POST and answers what `answer` says (200 by default). */
async function receiver(answer: (n: number) => number | 'hang' = () => 200) {
  const posts: Posted[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(n++);
      if (status === 'hang') return;
      if (status >= 200 && status < 300)
        posts.push({ at: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    posts,
    tries: () => n,
    url: (host = '127.0.0.1') => `http://${host}:${(server.address() as AddressInfo).port}/hook`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const mail = (to: string, subject: string) =>
  `From: app@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nhello ${subject}\r\n`;

describe('--webhook', () => {
  const running: RunningCli[] = [];
  const receivers: { close(): void }[] = [];
  after(async () => {
    for (const cli of running) await cli.stop();
    for (const r of receivers) r.close();
  });
  const sink = async (args: string[]) => {
    const cli = await startCli(['-o', 'headers:/dev/null', '--http', '127.0.0.1:0', ...args, '127.0.0.1:0']);
    running.push(cli);
    return cli;
  };
  /** A receiver, and a sink posting to it (allowed: it is on loopback) with `flags`. */
  const hooked = async (flags: string[], answer?: (n: number) => number | 'hang') => {
    const r = await receiver(answer);
    receivers.push(r);
    return { r, cli: await sink(['--webhook', r.url(), '--webhook-allow-internal', ...flags]) };
  };
  const send = (cli: RunningCli, to: string, subject: string) =>
    sendMail(cli.port, { from: 'app@example.test', to: [to], data: mail(to, subject) });

  it("posts each message's summary in Mailpit's shape, with the raw message and a label when asked", async () => {
    const { r, cli } = await hooked(['--webhook-raw', '--webhook-label', 'staging']);
    await send(cli, 'dev@example.test', 'first');
    await send(cli, 'ops@example.test', 'second');
    await until(() => r.posts.length === 2, 10_000, 'two posts');
    const [first, second] = r.posts;
    assert.equal(first!.body.Subject, 'first');
    assert.equal(second!.body.Subject, 'second');
    assert.deepEqual(first!.body.To, [{ Name: '', Address: 'dev@example.test' }]);
    assert.equal(typeof first!.body.ID, 'string');
    assert.equal(typeof first!.body.Snippet, 'string');
    assert.match(
      Buffer.from(first!.body.Raw as string, 'base64').toString(),
      /^From: app@example\.test\r\n[\s\S]*hello first/,
    );
    assert.match(first!.headers['user-agent'] ?? '', /^smtpd-ts\/\d/);
    assert.equal(first!.headers['content-type'], 'application/json');
    assert.equal(first!.headers['mailpit-label'], 'staging');
    assert.equal(first!.headers['smtpd-ts-label'], 'staging');
  });

  it('posts only what --webhook-query matches, at most --webhook-limit a second, all of them in order', async () => {
    const { r, cli } = await hooked(['--webhook-limit', '2', '--webhook-query', 'subject:wanted']);
    for (let i = 0; i < 6; i++) await send(cli, 'dev@example.test', `wanted ${i}`);
    await send(cli, 'dev@example.test', 'other');
    await until(() => r.posts.length === 6, 15_000, 'six posts');
    assert.deepEqual(
      r.posts.map((p) => p.body.Subject),
      [0, 1, 2, 3, 4, 5].map((i) => `wanted ${i}`),
    );
    // Two a second: the six posts are sent 500 ms apart, 2.5 s from first to last (at the default of five a
    // second, 1 s). Measured where they arrive, a late first arrival shortens that: 1.8 s tells the two apart.
    const span = r.posts.at(-1)!.at - r.posts[0]!.at;
    assert.ok(span >= 1800, `six posts within ${span} ms`);
    assert.equal(r.tries(), 6, 'the message the query does not match is never posted');
  });

  it('tries again after a 503, not after a 400, and SMTP never waits on a receiver that hangs', async () => {
    const { r: retried, cli: a } = await hooked([], (n) => (n === 0 ? 503 : 200));
    await send(a, 'dev@example.test', 'retry');
    await until(() => retried.posts.length === 1, 10_000, 'the retried post');
    assert.equal(retried.tries(), 2);
    const { r: refused, cli: b } = await hooked([], () => 400);
    await send(b, 'dev@example.test', 'bad request');
    await until(() => /answered 400 for message \S+; not tried again/.test(b.stderr()), 10_000, 'the 400 said');
    assert.equal(refused.tries(), 1);
    // A receiver that never answers: were a 250 to wait for its post, these would never get one.
    const { r: hanging, cli: c } = await hooked([], () => 'hang');
    for (let i = 0; i < 3; i++) assert.equal((await send(c, 'dev@example.test', `hang ${i}`)).at(-2), 250);
    await until(() => hanging.tries() === 1, 10_000, 'the first post, still unanswered');
  });

  it('refuses internal addresses unless allowed: an IP at start, a name when it resolves to one', async () => {
    const r = await receiver();
    receivers.push(r);
    assertUsageError(['--http', '127.0.0.1:0', '--webhook', r.url()]);
    assertUsageError(['--http', '127.0.0.1:0', '--webhook', 'http://169.254.169.254/latest/meta-data']);
    assertUsageError(['--http', '127.0.0.1:0', '--webhook', 'http://[::1]:8080/']);
    assertUsageError(['--http', '127.0.0.1:0', '--webhook', 'ftp://example.test/']);
    assertUsageError(['--webhook', 'https://example.test/hook', '-n']);
    assertUsageError(['--http', '127.0.0.1:0', '--webhook', 'https://example.test/hook', '--workers', '2']);
    // A name is judged by the address it resolves to, when the request is made.
    const cli = await sink(['--webhook', r.url('localhost')]);
    await send(cli, 'dev@example.test', 'never posted');
    await until(() => /refused: localhost resolves to .*an internal address/.test(cli.stderr()), 10_000, 'the refusal');
    assert.equal(r.tries(), 0);
  });
});
