/**
 * `--http` through the real CLI: the published Mailpit client (mailpit-api
 * 2.x) against the inbox, raw HTTP for the shapes, status codes and
 * headers, and the refusals that keep a web page away from the mail (DNS
 * rebinding, cross-origin changes). Real SMTP clients send the mail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import nodemailer from 'nodemailer';
import mailhog from 'mailhog';
import { MailpitClient as MailpitClientV1 } from 'mailpit-api-v1';
import WebSocket from 'ws';
import { assertUsageError, inboxUrl, NODE_ARGS, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { until } from '../helpers/until.js';
import { exitStatus } from '../helpers/process.js';

/** A request to /api/v1/messages with headers fetch() would not send as given (Host); its status and CORS header. */
function rawRequest(
  port: string,
  headers: Record<string, string>,
  method: string,
): Promise<{ status: number; cors: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/messages', method, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, cors: res.headers['access-control-allow-origin'] as string | undefined });
    });
    req.on('error', reject);
    // A PUT takes Mailpit's body (an empty one is a 400, as Go's decoder says EOF).
    req.end(method === 'PUT' ? '{"Read":true}' : undefined);
  });
}

/** Runs `body` against a sink started with `--http` (and `args`), stopped afterwards whatever happens. */
async function withInbox(args: readonly string[], body: (cli: RunningCli) => Promise<void>): Promise<void> {
  const cli = await startCli(['-n', '--http', '127.0.0.1:0', ...args, '127.0.0.1:0']);
  try {
    await body(cli);
  } finally {
    await cli.stop('SIGTERM');
  }
}

async function send(cli: RunningCli, subject: string, extra = ''): Promise<void> {
  const data = `From: App <app@example.test>\r\nTo: User <user@example.test>\r\nSubject: ${subject}\r\n${extra}\r\nHello ${subject}\r\nhttps://example.test/reset?token=abc`;
  const codes = await sendMail(cli.port, {
    from: 'app@example.test',
    to: ['user@example.test', 'hidden@example.test'],
    data,
  });
  assert.equal(codes.at(-2), 250);
}

describe('--http: the inbox in Mailpit’s API', () => {
  it("answers Mailpit's clients as Mailpit does: latest?query=, a doubled slash, a send request's keys in any case", async () => {
    await withInbox([], async (cli) => {
      const url = inboxUrl(cli);
      await send(cli, 'Alpha');
      await send(cli, 'Beta');
      const subject = async (query: string) =>
        (
          (await (await fetch(`${url}/api/v1/message/latest?query=${encodeURIComponent(query)}`)).json()) as {
            Subject: string;
          }
        ).Subject;
      assert.equal(await subject('subject:Alpha'), 'Alpha');
      assert.equal(await subject('subject:Beta'), 'Beta');
      const none = await fetch(`${url}/api/v1/message/latest?query=subject:Gamma`);
      assert.deepEqual([none.status, await none.text()], [404, 'Message not found\n']);
      // node:http, not fetch: the doubled slash reaches the server as a client sends it.
      const moved = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        request(
          { host: '127.0.0.1', port: new URL(url).port, path: '//view/latest.txt?query=subject:Alpha' },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, location: res.headers.location });
          },
        )
          .on('error', reject)
          .end();
      });
      assert.deepEqual(moved, { status: 301, location: '/view/latest.txt?query=subject:Alpha' });
      assert.match(await (await fetch(`${url}${moved.location!}`)).text(), /Hello Alpha/);
      const sent = await fetch(`${url}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          from: { email: 'app@example.test' },
          to: [{ email: 'user@example.test' }],
          subject: 'Report',
          attachments: [{ content: Buffer.from('%PDF-1.4').toString('base64'), FileName: 'report.pdf' }],
        }),
      });
      assert.equal(sent.status, 200);
      const { ID } = (await sent.json()) as { ID: string };
      const message = (await (await fetch(`${url}/api/v1/message/${ID}`)).json()) as {
        Attachments: { FileName: string; ContentType: string }[];
      };
      assert.deepEqual(
        message.Attachments.map((a) => [a.FileName, a.ContentType]),
        [['report.pdf', 'application/pdf']],
      );
    });
  });

  it('answers a held latest?wait= request with the message sent over SMTP, and the next one with after=', async () => {
    await withInbox([], async (cli) => {
      const url = `${inboxUrl(cli)}/api/v1/message/latest?query=${encodeURIComponent('subject:Ready')}&wait=10s`;
      const first = fetch(url).then((r) => r.json() as Promise<{ ID: string; Subject: string }>);
      await send(cli, 'Ready one');
      const one = await first;
      assert.equal(one.Subject, 'Ready one');
      const second = fetch(`${url}&after=${one.ID}`).then((r) => r.json() as Promise<{ Subject: string }>);
      await send(cli, 'Not it');
      await send(cli, 'Ready two');
      assert.equal((await second).Subject, 'Ready two');
    });
  });

  it('tags messages from X-Tags, plus addresses and the send request, and sets, renames and deletes tags through the published client', async () => {
    await withInbox(['--tags-username'], async (cli) => {
      const mailpit = new MailpitClient(inboxUrl(cli));
      await send(cli, 'Tagged', 'X-Tags: Billing, urgent!\r\n');
      // With AUTH, the user's mailbox too (it shows first among the tags); --tags-username tags it as well.
      await nodemailer
        .createTransport({
          host: '127.0.0.1',
          port: cli.port,
          secure: false,
          ignoreTLS: true,
          auth: { user: 'ops', pass: 'x' },
        })
        .sendMail({ from: 'app@example.test', to: 'dev+signup@example.test', subject: 'Plus', text: 'hi' });
      await mailpit.sendMessage({
        From: { Email: 'api@example.test' },
        To: [{ Email: 'b@example.test' }],
        Subject: 'Sent',
        Tags: ['From API'],
      });
      const tagsOf = async (subject: string) =>
        (await mailpit.searchMessages({ query: `subject:${subject}` })).messages[0]!.Tags;
      assert.deepEqual(await tagsOf('Tagged'), ['Billing', 'urgent']);
      assert.deepEqual(await tagsOf('Plus'), ['ops', 'signup']);
      assert.deepEqual(await tagsOf('Sent'), ['From API']);
      assert.deepEqual(await mailpit.getTags(), ['Billing', 'From API', 'ops', 'signup', 'urgent']);
      const plus = (await mailpit.searchMessages({ query: 'tag:signup' })).messages;
      assert.deepEqual(
        plus.map((m) => m.Subject),
        ['Plus'],
      );
      await mailpit.setTags({ IDs: [plus[0]!.ID], Tags: ['Reviewed'] });
      assert.deepEqual(await tagsOf('Plus'), ['ops', 'Reviewed'], 'the mailbox stays: its rules decide it');
      await mailpit.renameTag('billing', 'Finance');
      await mailpit.deleteTag('urgent');
      assert.deepEqual(await tagsOf('Tagged'), ['Finance']);
      assert.deepEqual(await mailpit.getTags(), ['Finance', 'From API', 'ops', 'Reviewed']);
    });
  });

  it('serves what the published Mailpit client reads: list, summary, headers, source, search, read status, delete', async () => {
    await withInbox([], async (cli) => {
      const mailpit = new MailpitClient(inboxUrl(cli));
      await send(cli, 'Welcome');
      await send(cli, 'Reset your password', 'Reply-To: Support <help@example.test>\r\n');
      const list = await mailpit.listMessages();
      assert.equal(list.total, 2);
      assert.equal(list.messages_count, 2);
      assert.equal(list.unread, 2);
      assert.equal(list.messages[0]!.Subject, 'Reset your password', 'newest first');
      assert.match(list.messages[0]!.ID, /^[0-9A-Za-z]{22}$/);
      assert.deepEqual(list.messages[0]!.From, { Name: 'App', Address: 'app@example.test' });
      assert.deepEqual(list.messages[0]!.ReplyTo, [{ Name: 'Support', Address: 'help@example.test' }]);
      assert.deepEqual(list.messages[0]!.Bcc, [{ Name: '', Address: 'hidden@example.test' }], 'the blind copy');
      assert.match(list.messages[0]!.Snippet, /^Hello Reset your password https:/);

      const found = await mailpit.waitForMessage({ query: 'subject:welcome' }, { timeout: 3000, interval: 50 });
      assert.equal(found.Subject, 'Welcome');
      assert.equal(found.Text, 'Hello Welcome\nhttps://example.test/reset?token=abc\n');
      assert.deepEqual(found.To, [{ Name: 'User', Address: 'user@example.test' }]);
      const unread = await mailpit.listMessages();
      assert.equal(unread.unread, 1, 'reading a message marks it read');

      const headers = await mailpit.getMessageHeaders(found.ID);
      assert.deepEqual(headers['Subject'], ['Welcome']);
      assert.deepEqual(headers['X-Peer'], undefined, 'the headers as sent');
      const source = await mailpit.getMessageSource(found.ID);
      assert.match(source, /^From: App <app@example\.test>\r\n/);

      assert.equal((await mailpit.searchMessages({ query: 'password' })).messages_count, 1);
      assert.equal((await mailpit.searchMessages({ query: '-password' })).messages_count, 1);
      assert.equal((await mailpit.searchMessages({ query: 'to:user@example.test is:unread' })).messages_count, 1);
      assert.equal((await mailpit.searchMessages({ query: '"your password"' })).messages_count, 1);
      assert.equal((await mailpit.searchMessages({ query: 'after:2000-01-01 before:2999-01-01' })).messages_count, 2);
      assert.equal((await mailpit.searchMessages({ query: 'after:2999-01-01' })).messages_count, 0);
      assert.equal((await mailpit.searchMessages({ query: 'after:not-a-date' })).messages_count, 2, 'ignored');
      assert.equal(
        (await mailpit.searchMessages({ query: 'larger:100 smaller:10M has:attachment' })).messages_count,
        0,
      );

      const waited = await mailpit.waitForMessages({ query: 'from:app@example.test', count: 2 }, { timeout: 3000 });
      assert.equal(waited.messages_count, 2);
      assert.match(await mailpit.renderMessageText(found.ID), /^Hello Welcome/);
      await assert.rejects(mailpit.renderMessageHTML(found.ID), /404/, 'a plain text message has no HTML');
      await mailpit.setReadStatus({ Read: true });
      assert.equal((await mailpit.listMessages()).unread, 0);
      await mailpit.deleteMessages({ IDs: [found.ID] });
      assert.equal((await mailpit.listMessages()).total, 1);
      await send(cli, 'Another');
      await mailpit.deleteMessagesBySearch({ query: 'subject:another' });
      assert.equal((await mailpit.listMessages()).total, 1);
      await mailpit.deleteMessages();
      assert.equal((await mailpit.listMessages()).total, 0);
      const webui = await mailpit.getConfiguration();
      assert.equal(webui.MessageRelay.Enabled, false);
      const info = await mailpit.getInfo();
      assert.equal(info.Messages, 0);
      assert.equal(info.RuntimeStats.MessagesDeleted, 3);
    });
  });

  it('lists attachments and inline parts with Mailpit’s part IDs and checksums, and serves each decoded', async () => {
    await withInbox([], async (cli) => {
      const csv = 'id,total\n1,9.99\n';
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      await nodemailer.createTransport({ host: '127.0.0.1', port: cli.port, secure: false, ignoreTLS: true }).sendMail({
        from: 'app@example.test',
        to: 'user@example.test',
        subject: 'Invoice',
        text: 'See the invoice',
        html: '<p>See <img src="cid:logo@app"></p>',
        attachments: [
          { filename: 'invoice.csv', content: csv },
          { filename: 'logo.png', content: png, cid: 'logo@app' },
        ],
      });
      const mailpit = new MailpitClient(inboxUrl(cli));
      const message = await mailpit.getMessageSummary();
      assert.equal(message.Attachments.length, 1);
      const [attachment] = message.Attachments;
      assert.equal(attachment!.FileName, 'invoice.csv');
      assert.equal(attachment!.ContentType, 'text/csv');
      assert.equal(attachment!.Size, csv.length);
      assert.equal(attachment!.Checksums.SHA256, createHash('sha256').update(csv).digest('hex'));
      assert.equal(attachment!.Checksums.MD5, createHash('md5').update(csv).digest('hex'));
      assert.match(attachment!.PartID, /^\d+(\.\d+)*$/);
      assert.equal(message.Inline.length, 1);
      assert.equal(message.Inline[0]!.ContentID, 'logo@app');
      const blob = await mailpit.getMessageAttachment(message.ID, attachment!.PartID);
      assert.equal(Buffer.from(await (blob as Blob).arrayBuffer()).toString(), csv);
      const image = await fetch(`${inboxUrl(cli)}/api/v1/message/${message.ID}/part/${message.Inline[0]!.PartID}`);
      assert.equal(image.headers.get('content-type'), 'image/png');
      assert.match(image.headers.get('content-security-policy') ?? '', /sandbox/);
      assert.deepEqual(Buffer.from(await image.arrayBuffer()), png);
      assert.equal((await fetch(`${inboxUrl(cli)}/api/v1/message/${message.ID}/part/9`)).status, 404);
    });
  });

  it('answers with Mailpit’s status codes and strict headers, and keeps what only smtpd-ts knows apart', async () => {
    await withInbox([], async (cli) => {
      const url = inboxUrl(cli);
      const missing = await fetch(`${url}/api/v1/message/latest`);
      assert.equal(missing.status, 404);
      assert.equal((await missing.text()).trim().split('\n').length, 1);
      await send(cli, 'Headers');
      const res = await fetch(`${url}/api/v1/message/latest`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS');
      const message = (await res.json()) as Record<string, unknown> & {
        SmtpdTs: { mailFrom: string; rcptTo: string[]; lint: { id: string }[]; dialogue: unknown; relay: unknown };
      };
      assert.ok(message.SmtpdTs.lint.length > 0, 'the lint finds the missing Date and Message-ID');
      assert.ok(
        Array.isArray(message.SmtpdTs.dialogue),
        'the dialogue is kept for the inbox, also without --transcript',
      );
      assert.equal(message.SmtpdTs.relay, null, 'not relayed');
      for (const key of [
        'ID',
        'MessageID',
        'From',
        'To',
        'Cc',
        'Bcc',
        'ReplyTo',
        'ReturnPath',
        'Subject',
        'ListUnsubscribe',
        'Date',
        'Tags',
        'Username',
        'Text',
        'HTML',
        'Size',
        'Inline',
        'Attachments',
      ])
        assert.ok(key in message, `Message has ${key}`);
      assert.deepEqual(message.SmtpdTs.rcptTo, ['user@example.test', 'hidden@example.test']);
      assert.equal((await fetch(`${url}/api/v1/nothing`)).status, 404);
      assert.equal((await fetch(`${url}/api/v1/search`)).status, 400);
      const bad = await fetch(`${url}/api/v1/messages`, { method: 'PUT', body: '{not json' });
      assert.equal(bad.status, 400);
      const huge = await fetch(`${url}/api/v1/messages`, { method: 'PUT', body: 'x'.repeat(2 * 1024 * 1024) }).catch(
        () => null,
      );
      assert.ok(huge === null || huge.status === 413);
      assert.equal((await fetch(`${url}/livez`)).status, 200);
      const doc = (await (await fetch(`${url}/api/v1/swagger.json`)).json()) as { openapi: string; paths: object };
      assert.equal(doc.openapi, '3.1.0');
      for (const route of [
        '/api/v1/messages',
        '/api/v1/message/{ID}',
        '/api/v2/messages',
        '/api/events',
        '/api/v1/events',
        '/api/v1/tags',
      ])
        assert.ok(route in doc.paths, `the OpenAPI document has ${route}`);
    });
  });

  it('answers malformed URLs and queries with 400 or 404, pages consistently while mail arrives, and serves others while a client sends half a request', async () => {
    await withInbox([], async (cli) => {
      const url = inboxUrl(cli);
      assert.equal((await fetch(`${url}/api/v1/messages/%zz`)).status, 400);
      assert.equal((await fetch(`${url}/api/v1/message/${'x'.repeat(5000)}`)).status, 404);
      assert.equal(
        (await fetch(`${url}/api/v1/messages?start=-1&limit=abc`)).status,
        200,
        'bad paging is ignored, as Mailpit does',
      );
      assert.equal((await fetch(`${url}/api/v1/search?query=${encodeURIComponent('"unclosed -')}`)).status, 200);
      for (let i = 0; i < 6; i++) await send(cli, `page ${i}`);
      const page = async (start: number) =>
        (
          (await (await fetch(`${url}/api/v1/messages?start=${start}&limit=3`)).json()) as {
            messages: { Subject: string }[];
          }
        ).messages.map((m) => m.Subject);
      const first = await page(0);
      await send(cli, 'arrived meanwhile');
      const second = await page(4);
      assert.deepEqual(first, ['page 5', 'page 4', 'page 3']);
      assert.deepEqual(second, ['page 2', 'page 1', 'page 0'], 'a new message shifts the pages by one, nothing lost');
      // A client that sends half a request and stops holds no one up (Node cuts it after headersTimeout, 10 s).
      const { port } = new URL(url);
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.write('GET /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      assert.equal((await fetch(`${url}/livez`)).status, 200, 'others are served meanwhile');
      socket.destroy();
      await closed;
    });
  });

  it('refuses another Host (DNS rebinding) and changes from another origin, with 403', async () => {
    await withInbox([], async (cli) => {
      const url = inboxUrl(cli);
      await send(cli, 'Secret link');
      const port = new URL(url).port;
      const status = async (headers: Record<string, string>, method = 'GET') =>
        (await rawRequest(port, headers, method)).status;
      assert.equal(await status({ Host: `attacker.example:${port}` }), 403);
      assert.equal(await status({ Host: `localhost:${port}` }), 200);
      assert.equal(await status({ Host: `127.0.0.1:${port}`, Origin: 'http://attacker.example' }, 'DELETE'), 403);
      assert.equal(
        ((await (await fetch(`${url}/api/v1/messages`)).json()) as { total: number }).total,
        1,
        'nothing deleted',
      );
    });
  });

  it('asks for basic auth with --http-auth-file, lets a named Host and a CORS origin in, and views a message', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-http-auth-'));
    const users = path.join(dir, 'users');
    await writeFile(users, '# inbox users\nqa:s3cret\n');
    const cli = await startCli([
      '-n',
      '--http',
      '127.0.0.1:0',
      '--http-auth-file',
      users,
      '--http-allow-host',
      'mail.test',
      '--http-cors',
      'http://app.test:3000',
      '127.0.0.1:0',
    ]);
    try {
      const url = inboxUrl(cli);
      const auth = { Authorization: `Basic ${Buffer.from('qa:s3cret').toString('base64')}` };
      const refused = await fetch(`${url}/api/v1/messages`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic /);
      const wrong = { Authorization: `Basic ${Buffer.from('qa:nope').toString('base64')}` };
      assert.equal((await fetch(`${url}/api/v1/messages`, { headers: wrong })).status, 401);
      const mailpit = new MailpitClient(url, { auth: { username: 'qa', password: 's3cret' } });
      await send(cli, 'Authorized');
      assert.equal((await mailpit.listMessages()).total, 1);
      const port = new URL(url).port;
      const status = (headers: Record<string, string>, method = 'GET') =>
        rawRequest(port, { ...auth, ...headers }, method);
      assert.equal((await status({ Host: `mail.test:${port}` })).status, 200);
      assert.equal((await status({ Host: `other.test:${port}` })).status, 403);
      const cors = await status({ Host: `127.0.0.1:${port}`, Origin: 'http://app.test:3000' }, 'PUT');
      assert.deepEqual(cors, { status: 200, cors: 'http://app.test:3000' });
      assert.equal((await status({ Host: `127.0.0.1:${port}`, Origin: 'http://evil.test' }, 'PUT')).status, 403);
      const id = (await mailpit.listMessages()).messages[0]!.ID;
      const txt = await fetch(`${url}/view/${id}.txt`, { headers: auth });
      assert.match(await txt.text(), /^Hello Authorized/);
      assert.equal(
        (await fetch(`${url}/view/${id}.html`, { headers: auth })).status,
        404,
        'a plain text message has no HTML',
      );
    } finally {
      await cli.stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows an HTML message under a sandboxing Content-Security-Policy', async () => {
    await withInbox([], async (cli) => {
      const html = '<p>Hi</p><script>alert(1)</script><img src="https://tracker.test/p.gif">';
      const data = `Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}`;
      assert.equal((await sendMail(cli.port, { from: 'a@x.test', to: ['b@x.test'], data })).at(-2), 250);
      const res = await fetch(`${inboxUrl(cli)}/view/latest.html`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /sandbox/);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'none'/, 'no script may run');
      assert.match(csp, /img-src 'self' data:;/, 'nothing remote unless asked');
      const body = await res.text();
      assert.match(body, /<p>Hi<\/p>/);
      assert.doesNotMatch(body, /<script/);
      const remote = await fetch(`${inboxUrl(cli)}/view/latest.html?remote=1`);
      assert.match(remote.headers.get('content-security-policy') ?? '', /img-src 'self' data: https: http:;/);
    });
  });

  it('serves the web UI at / with a CSP that allows only its own files, gzipped, and the .eml download', async () => {
    await withInbox([], async (cli) => {
      const page = await fetch(`${inboxUrl(cli)}/`);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self';/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(await page.text(), /<script type="module" src="assets\/app.js"><\/script>/);
      for (const [asset, type] of [
        ['app.js', /^text\/javascript/],
        ['app.css', /^text\/css/],
      ] as const) {
        const res = await fetch(`${inboxUrl(cli)}/assets/${asset}`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', type);
        assert.equal(res.headers.get('content-encoding'), 'gzip');
        assert.ok((await res.text()).length > 1000);
      }
      assert.equal((await fetch(`${inboxUrl(cli)}/assets/nothing.js`)).status, 404);
      await send(cli, 'Download');
      const eml = await fetch(`${inboxUrl(cli)}/api/v1/message/latest/raw?dl=1`);
      assert.match(eml.headers.get('content-disposition') ?? '', /^attachment; filename="[0-9A-Za-z]{22}\.eml"$/);
      assert.equal(eml.headers.get('content-type'), 'message/rfc822');
    });
  });

  it('refuses the inbox flags without --http and bad values, with exit 2', () => {
    for (const args of [
      ['--http-cors', 'http://a.test'],
      ['--max-messages', '5'],
      ['--http', '--http-cors', 'not an origin'],
      ['--http', '--http-auth-file', '/nonexistent/users'],
      ['--http', '--max-age', 'soon'],
    ])
      assertUsageError(['-n', ...args]);
  });

  it('gives the session’s dialogue, and prints it only with --transcript', async () => {
    await withInbox([], async (cli) => {
      await send(cli, 'No transcript');
      await cli.waitForStdout('Hello No transcript');
      assert.doesNotMatch(cli.stdout(), /MAIL FROM:</, 'stdout as without --http');
      const message = (await (await fetch(`${inboxUrl(cli)}/api/v1/message/latest`)).json()) as {
        SmtpdTs: { dialogue: { dir: string; text: string }[] };
      };
      assert.ok(message.SmtpdTs.dialogue.some((l) => l.text.startsWith('MAIL FROM:<app@example.test>')));
    });
    await withInbox(['--transcript'], async (cli) => {
      await send(cli, 'Dialogue');
      const message = (await (await fetch(`${inboxUrl(cli)}/api/v1/message/latest`)).json()) as {
        SmtpdTs: { dialogue: { dir: string; text: string }[] };
      };
      assert.ok(message.SmtpdTs.dialogue.some((l) => l.text.startsWith('MAIL FROM:<app@example.test>')));
    });
  });

  it('names the inbox URL on the ready file’s second line, after SMTP’s host:port', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-http-'));
    const ready = path.join(dir, 'ready');
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '--ready-file', ready, '127.0.0.1:0']);
    try {
      const [smtp, http, ...rest] = (await readFile(ready, 'utf8')).split('\n');
      assert.equal(smtp, `127.0.0.1:${cli.port}`);
      assert.equal(http, inboxUrl(cli));
      assert.deepEqual(rest, ['']);
      // `smtpd-ts wait` prints what the ready file says: both lines.
      const waited = spawnSync(process.execPath, [...NODE_ARGS, 'wait', '--ready-file', ready, '--timeout', '5'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(waited.stdout, `${smtp}\n${http}\n`);
    } finally {
      await cli.stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tells WebSocket clients of each new, read and deleted message (mailpit-api 1.9 waitForEvent)', async () => {
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '127.0.0.1:0']);
    const client = new MailpitClientV1(inboxUrl(cli));
    try {
      const arrived = client.waitForEvent('new', 5000);
      // The client connects on the first call; give it a moment before the mail is sent.
      await new Promise((r) => setTimeout(r, 300));
      await send(cli, 'Live');
      const event = (await arrived) as { Type: string; Data: { Subject: string; ID: string } };
      assert.equal(event.Type, 'new');
      assert.equal(event.Data.Subject, 'Live');
      const stats = (await client.waitForEvent('stats', 5000)) as { Data: { Total: number; Unread: number } };
      assert.deepEqual([stats.Data.Total, stats.Data.Unread], [1, 1]);
      const deleted = client.waitForEvent('delete', 5000);
      await fetch(`${inboxUrl(cli)}/api/v1/messages`, {
        method: 'DELETE',
        body: JSON.stringify({ IDs: [event.Data.ID] }),
      });
      assert.deepEqual(((await deleted) as { Data: unknown }).Data, { ID: event.Data.ID });
    } finally {
      client.disconnect();
      await cli.stop('SIGTERM');
    }
  });

  it('refuses a WebSocket opened by a page from another origin', async () => {
    await withInbox([], async (cli) => {
      const ws = new WebSocket(`${inboxUrl(cli).replace('http', 'ws')}/api/events`, {
        origin: 'http://attacker.example',
      });
      const refused = await new Promise<string>((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('open', () => resolve('open'));
        ws.on('error', (err) => resolve(err.message));
      });
      assert.equal(refused, '403');
      ws.terminate();
    });
  });

  it('keeps the inbox in the --save-dir Maildir: a restart keeps the messages and their IDs, a delete removes the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-http-maildir-'));
    const args = ['-n', '--http', '127.0.0.1:0', '--save-dir', dir, '127.0.0.1:0'];
    type List = { total: number; messages: { ID: string; Subject: string }[] };
    const list = async (cli: RunningCli) => (await (await fetch(`${inboxUrl(cli)}/api/v1/messages`)).json()) as List;
    try {
      let cli = await startCli(args);
      await send(cli, 'first');
      await send(cli, 'second');
      const before = await list(cli);
      await cli.stop('SIGTERM');
      cli = await startCli(args);
      const after = await list(cli);
      assert.deepEqual(
        after.messages.map((m) => [m.ID, m.Subject]),
        before.messages.map((m) => [m.ID, m.Subject]),
      );
      assert.match(cli.stderr(), /2 message\(s\) read from the Maildir/);
      const full = (await (await fetch(`${inboxUrl(cli)}/api/v1/message/${after.messages[1]!.ID}`)).json()) as {
        Text: string;
        SmtpdTs: { mailFrom: string; rcptTo: string[] };
      };
      assert.equal(full.SmtpdTs.mailFrom, 'app@example.test');
      assert.deepEqual(full.SmtpdTs.rcptTo, ['user@example.test', 'hidden@example.test']);
      assert.match(full.Text, /^Hello first\n/);
      await fetch(`${inboxUrl(cli)}/api/v1/messages`, {
        method: 'DELETE',
        body: JSON.stringify({ IDs: [after.messages[0]!.ID] }),
      });
      await until(async () => (await readdir(path.join(dir, 'new'))).length === 1, 3000, 'the file removed');
      await cli.stop('SIGTERM');
      cli = await startCli(args);
      assert.deepEqual(
        (await list(cli)).messages.map((m) => m.Subject),
        ['first'],
      );
      await cli.stop('SIGTERM');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops messages older than --max-age, and keeps at most --max-inbox-size bytes', async () => {
    const cli = await startCli([
      '-n',
      '--http',
      '127.0.0.1:0',
      '--max-age',
      '1s',
      '--max-inbox-size',
      '2k',
      '127.0.0.1:0',
    ]);
    try {
      const total = async () =>
        ((await (await fetch(`${inboxUrl(cli)}/api/v1/messages`)).json()) as { total: number }).total;
      await send(cli, 'one');
      await send(cli, 'two ' + 'x'.repeat(1500));
      assert.equal(await total(), 1, 'the first dropped past 2 KiB');
      await until(async () => (await total()) === 0, 5000, 'the message to age out');
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('keeps at most --max-messages, the oldest dropped first', async () => {
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '--max-messages', '2', '127.0.0.1:0']);
    try {
      for (const s of ['one', 'two', 'three']) await send(cli, s);
      const list = (await (await fetch(`${inboxUrl(cli)}/api/v1/messages`)).json()) as {
        total: number;
        messages: { Subject: string }[];
      };
      assert.equal(list.total, 2);
      assert.deepEqual(
        list.messages.map((m) => m.Subject),
        ['three', 'two'],
      );
    } finally {
      await cli.stop('SIGTERM');
    }
  });
});

describe('--http: the inbox in MailHog’s API', () => {
  it('serves what the published MailHog client reads: messages, search, the decoded getters, delete', async () => {
    await withInbox([], async (cli) => {
      const port = Number(new URL(inboxUrl(cli)).port);
      const api = mailhog({ host: '127.0.0.1', port });
      const multipart =
        'From: App <app@example.test>\r\nTo: user@example.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Transfer-Encoding: quoted-printable\r\n\r\nBonjour caf=C3=A9\r\n--b1\r\nContent-Type: text/csv\r\n' +
        'Content-Disposition: attachment; filename="report.csv"\r\nContent-Transfer-Encoding: base64\r\n\r\nYSxiCjEsMgo=\r\n--b1--';
      assert.equal(
        (await sendMail(cli.port, { from: 'app@example.test', to: ['user@example.test'], data: multipart })).at(-2),
        250,
      );
      await send(cli, 'Plain one');
      const result = await api.messages();
      assert.ok(result);
      assert.equal(result.total, 2);
      assert.equal(result.count, 2);
      const [plain, mixed] = result.items;
      assert.equal(plain!.subject, 'Plain one');
      assert.equal(mixed!.subject, 'café', 'the client decodes the encoded word');
      assert.equal(mixed!.text, 'Bonjour café');
      assert.equal(mixed!.attachments.length, 1);
      assert.equal(mixed!.attachments[0]!.name, 'report.csv');
      const part = await fetch(
        `${inboxUrl(cli)}/api/v1/messages/${encodeURIComponent(mixed!.ID)}/mime/part/1/download`,
      );
      assert.equal(part.status, 200);
      assert.equal(await part.text(), 'a,b\n1,2\n', 'the attachment, base64 decoded');
      assert.match(part.headers.get('content-disposition') ?? '', /^attachment; filename=".+-part-1"$/);
      const shape = mixed as unknown as { From: unknown; Raw: { Helo: string; To: string[] } };
      assert.deepEqual(shape.From, { Relays: null, Mailbox: 'app', Domain: 'example.test', Params: '' });
      assert.equal(shape.Raw.Helo, 'client.test');
      assert.deepEqual(shape.Raw.To, ['user@example.test']);
      const found = await api.search('user@example.test', 'to');
      assert.equal(found!.total, 2);
      assert.equal((await api.latestContaining('Bonjour'))!.subject, 'café');
      assert.ok(!(await api.latestFrom('nobody@example.test')), 'no such sender');
      await api.deleteMessage(plain!.ID);
      assert.equal((await api.messages())!.total, 1);
      await api.deleteAll();
      assert.equal((await api.messages())!.total, 0);
    });
  });

  it('streams each new message on /api/v1/events as MailHog does', async () => {
    await withInbox([], async (cli) => {
      const response = await fetch(`${inboxUrl(cli)}/api/v1/events`);
      assert.equal(response.headers.get('content-type'), 'text/event-stream');
      const reader = response.body!.getReader();
      await send(cli, 'Streamed');
      let text = '';
      while (!text.includes('event: data\ndata: {')) text += new TextDecoder().decode((await reader.read()).value);
      const line = text.slice(text.indexOf('data: {') + 6).split('\n')[0]!;
      const message = JSON.parse(line) as { Content: { Headers: Record<string, string[]> } };
      assert.deepEqual(message.Content.Headers['Subject'], ['Streamed']);
      await reader.cancel();
    });
  });
});

describe('--http: sending through the API', () => {
  it('releases a stored message to new recipients through the relay’s upstream (Mailpit’s release)', async () => {
    const upstream = await startCli(['-n', '-f', 'json', '127.0.0.1:0']);
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '--relay', `127.0.0.1:${upstream.port}`, '127.0.0.1:0']);
    try {
      await send(cli, 'To release');
      const mailpit = new MailpitClient(inboxUrl(cli));
      const { ID } = await mailpit.getMessageSummary();
      assert.equal(await mailpit.releaseMessage(ID, { To: ['qa@example.test'] }), 'ok');
      await upstream.waitForStdout((out) => out.includes('"qa@example.test"'));
      const released = upstream
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { rcptTo: string[]; subject: string })
        .find((r) => r.rcptTo.includes('qa@example.test'));
      assert.equal(released?.subject, 'To release');
      const stored = (await (await fetch(`${inboxUrl(cli)}/api/v1/message/${ID}`)).json()) as {
        SmtpdTs: { relay: { accepted: string[] } };
      };
      assert.deepEqual(
        stored.SmtpdTs.relay.accepted,
        ['user@example.test', 'hidden@example.test'],
        'the relay outcome',
      );
      const bad = await fetch(`${inboxUrl(cli)}/api/v1/message/${ID}/release`, {
        method: 'POST',
        body: JSON.stringify({ To: ['not an address'] }),
      });
      assert.equal(bad.status, 400);
      assert.equal(await bad.text(), 'Invalid email address: not an address\n');
    } finally {
      await cli.stop('SIGTERM');
      await upstream.stop('SIGTERM');
    }
  });

  it("releases through MailHog's release with its published client, only to the relay's upstream", async () => {
    const upstream = await startCli(['-n', '-f', 'json', '127.0.0.1:0']);
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '--relay', `127.0.0.1:${upstream.port}`, '127.0.0.1:0']);
    try {
      await send(cli, 'To release, MailHog');
      const { port } = new URL(inboxUrl(cli));
      const api = mailhog({ host: '127.0.0.1', port: Number(port) });
      const id = (await api.messages(0, 1))!.items[0]!.ID;
      const released = await api.releaseMessage(id, {
        host: '127.0.0.1',
        port: String(upstream.port),
        email: 'qa@example.test',
      });
      assert.equal(released.statusCode, 200);
      await upstream.waitForStdout((out) => out.includes('"qa@example.test"'));
      const line = upstream
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { rcptTo: string[]; subject: string })
        .find((r) => r.rcptTo.includes('qa@example.test'));
      assert.equal(line?.subject, 'To release, MailHog');
      // Anywhere else a request names is refused: another port, a saved server, no address.
      const release = (body: object) =>
        fetch(`${inboxUrl(cli)}/api/v1/messages/${id}/release`, { method: 'POST', body: JSON.stringify(body) });
      const elsewhere = await release({ Host: '127.0.0.1', Port: '25', Email: 'qa@example.test' });
      assert.equal(elsewhere.status, 400);
      assert.match(
        await elsewhere.text(),
        /^release goes only to the --relay upstream \(127\.0\.0\.1:\d+\), not 127\.0\.0\.1:25\n$/,
      );
      const saved = await release({ Name: 'prod', Save: true });
      assert.equal(saved.status, 400);
      const noAddress = await release({ Host: '127.0.0.1', Port: String(upstream.port), Email: 'nobody' });
      assert.equal(noAddress.status, 400);
      const upstreamLines = upstream.stdout().trim().split('\n').length;
      assert.equal(upstreamLines, 2, 'the upstream got the relayed original and the one release, nothing else');
    } finally {
      await cli.stop('SIGTERM');
      await upstream.stop('SIGTERM');
    }
  });

  it('delivers POST /api/v1/send as if received over SMTP: to stdout, the inbox, --exit-after', async () => {
    const cli = await startCli(['-n', '--http', '127.0.0.1:0', '-f', 'json', '--exit-after', '1', '127.0.0.1:0']);
    const mailpit = new MailpitClient(inboxUrl(cli));
    const { ID } = await mailpit.sendMessage({
      From: { Email: 'app@example.test', Name: 'App' },
      To: [{ Email: 'user@example.test', Name: 'User' }],
      Bcc: ['audit@example.test'],
      Subject: 'Sent by API',
      Text: 'Hello from the API',
      Headers: { 'X-Test': 'yes' },
      Attachments: [{ Content: Buffer.from('a,b\n').toString('base64'), Filename: 'a.csv', ContentType: 'text/csv' }],
    });
    assert.match(ID, /^[0-9A-Za-z]{22}$/);
    assert.deepEqual(await exitStatus(cli.child), { code: 0, signal: null }, '--exit-after counts it');
    const record = JSON.parse(cli.stdout().trim()) as {
      subject: string;
      rcptTo: string[];
      mailFrom: string;
      attachments: unknown[];
    };
    assert.equal(record.subject, 'Sent by API');
    assert.equal(record.mailFrom, 'app@example.test');
    assert.deepEqual(record.rcptTo, ['user@example.test', 'audit@example.test']);
    assert.equal(record.attachments.length, 1);
  });

  it('answers a request it will not send with 400 and Mailpit’s JSON error', async () => {
    await withInbox([], async (cli) => {
      const post = (body: unknown) =>
        fetch(`${inboxUrl(cli)}/api/v1/send`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => [
          r.status,
          ((await r.json()) as { Error: string }).Error,
        ]);
      assert.deepEqual(await post({ To: [{ Email: 'a@x.test' }] }), [400, 'invalid From address: undefined']);
      assert.deepEqual(await post({ From: { Email: 'a@x.test' } }), [400, 'no recipients: give To, Cc or Bcc']);
      const [status, error] = await post({
        From: { Email: 'a@x.test' },
        To: [{ Email: 'b@x.test' }],
        Headers: { Subject: 'x' },
      });
      assert.equal(status, 400);
      assert.match(String(error), /cannot overwrite header/);
      assert.equal(((await (await fetch(`${inboxUrl(cli)}/api/v1/messages`)).json()) as { total: number }).total, 0);
    });
  });
});
