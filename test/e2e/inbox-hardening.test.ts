/**
 * Hardening, round 3, through the real CLI: what hostile mail and hostile
 * requests did to the inbox, each as a regression test (docs/hardening.md,
 * "The inbox"). Real SMTP to the sink, real HTTP to the inbox, an upstream
 * smtp-server on loopback for the relay's cases.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer as UpstreamServer } from 'smtp-server';
import WebSocket from 'ws';
import { inboxUrl, startCli, type RunningCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

async function withInbox(args: readonly string[], body: (cli: RunningCli, url: string) => Promise<void>) {
  const cli = await startCli(['-n', '--http', '127.0.0.1:0', ...args, '127.0.0.1:0']);
  try {
    await body(cli, inboxUrl(cli));
  } finally {
    await cli.stop('SIGTERM');
  }
}

async function deliver(cli: RunningCli, data: string | Buffer, to = ['user@example.test']): Promise<number> {
  const codes = await sendMail(cli.port, { from: 'app@example.test', to, data });
  return codes.at(-2)!;
}

const html = (body: string) =>
  `From: a@example.test\r\nTo: user@example.test\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n${body}\r\n`;

/** POST /api/v1/send of a small message from a@allowed.test to `to`. */
function apiSend(url: string, headers: Record<string, string>, to: string, extra: Record<string, unknown> = {}) {
  return fetch(`${url}/api/v1/send`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ From: { Email: 'a@allowed.test' }, To: [{ Email: to }], Subject: 's', ...extra }),
  });
}

async function ids(url: string, headers: Record<string, string> = {}): Promise<string[]> {
  const list = (await (await fetch(`${url}/api/v1/messages`, { headers })).json()) as { messages: { ID: string }[] };
  return list.messages.map((m) => m.ID);
}

describe('the inbox against hostile mail', () => {
  it('previews HTML of any nesting (20,000 open divs; 1 MiB of unclosed tags) without a 500 or a freeze', async () => {
    await withInbox([], async (cli, url) => {
      assert.equal(await deliver(cli, html(`${'<div>'.repeat(20_000)}deep<script>alert(1)</script>`)), 250);
      assert.equal(await deliver(cli, html('<div><b>x</b><i>'.repeat(65_536))), 250);
      for (const id of await ids(url)) {
        const view = await fetch(`${url}/view/${id}.html`);
        assert.equal(view.status, 200);
        const page = await view.text();
        assert.doesNotMatch(page, /<script/);
        const message = await fetch(`${url}/api/v1/message/${id}`);
        assert.equal(message.status, 200);
        assert.equal(((await message.json()) as { ID: string }).ID, id);
      }
      // Meanwhile (the large one in the view worker) the sink still answers.
      assert.equal((await fetch(`${url}/livez`)).status, 200);
    });
  });

  it('streams the JSON of a large control-byte message, and reads many at once within the budget', async () => {
    await withInbox([], async (cli, url) => {
      const body = Buffer.alloc(4 << 20, 0x01);
      const data = Buffer.concat([Buffer.from('Subject: controls\r\n\r\n'), body]);
      assert.equal(await deliver(cli, data), 250);
      const [id] = await ids(url);
      const one = await fetch(`${url}/api/v1/message/${id}`);
      assert.equal(one.headers.get('content-length'), null, 'streamed, not one string');
      const message = (await one.json()) as { Text: string };
      assert.ok(message.Text.length >= 4 << 20, 'the text whole, \\u0001 escapes and all');
      const lists = await Promise.all(
        Array.from({ length: 8 }, () => fetch(`${url}/api/v2/messages?limit=1`).then((r) => r.json())),
      );
      for (const list of lists as { items: { Raw: { Data: string } }[] }[])
        assert.ok(list.items[0]!.Raw.Data.startsWith(data.toString('latin1')));
    });
  });

  it('lists a large message from its brief and reads it whole through its own routes', async () => {
    await withInbox([], async (cli, url) => {
      const text = `Hello large world ${'lorem ipsum '.repeat(200_000)}THE END`;
      const data =
        'Subject: large\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
        `--b\r\nContent-Type: text/plain\r\n\r\n${text}\r\n` +
        '--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nPDF\r\n--b--\r\n';
      assert.equal(await deliver(cli, data), 250);
      const list = (await (await fetch(`${url}/api/v1/messages`)).json()) as {
        messages: { ID: string; Subject: string; Snippet: string; Attachments: number }[];
      };
      const [summary] = list.messages;
      assert.deepEqual(
        { Subject: summary!.Subject, Attachments: summary!.Attachments },
        { Subject: 'large', Attachments: 1 },
      );
      assert.match(summary!.Snippet, /^Hello large world lorem ipsum .*\.\.\.$/);
      const whole = (await (await fetch(`${url}/api/v1/message/${summary!.ID}`)).json()) as { Text: string };
      assert.equal(whole.Text.trim(), text);
      const plain = 'Subject: plain\r\n\r\n' + `ünïcødé ${'x'.repeat(80)}\r\n`.repeat(20_000);
      assert.equal(await deliver(cli, plain), 250);
      const [newest] = await ids(url);
      const mailhog = (await (await fetch(`${url}/api/v1/messages/${newest}`)).json()) as {
        Content: { Body: string };
      };
      assert.equal(mailhog.Content.Body, plain.slice(plain.indexOf('\r\n\r\n') + 4) + '\r\n');
    });
  });

  it('splits MailHog’s MIME to a bounded depth: 4,000 nested multiparts do not break the list', async () => {
    await withInbox([], async (cli, url) => {
      let mime = 'leaf';
      for (let i = 4000; i > 0; i--)
        mime = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${mime}\r\n--b${i}--`;
      assert.equal(await deliver(cli, `Subject: nested\r\n${mime}\r\n`), 250);
      const list = await fetch(`${url}/api/v2/messages`);
      assert.equal(list.status, 200);
      assert.equal(((await list.json()) as { count: number }).count, 1);
    });
  });

  it('names attachments outside Latin-1 by RFC 6266, and decodes RFC 2047 and raw UTF-8 names', async () => {
    await withInbox([], async (cli, url) => {
      const part = (disposition: string) =>
        `--b\r\nContent-Type: application/pdf\r\nContent-Disposition: ${disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n`;
      const data = Buffer.from(
        'Subject: names\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
          part('attachment; filename="报告.pdf"') +
          part('attachment; filename="=?UTF-8?B?8J+TjiBub3Rlcy5wZGY=?="') +
          part('attachment; filename="a\\"b.pdf"') +
          '--b--\r\n',
        'utf8',
      );
      assert.equal(await deliver(cli, data), 250);
      const [id] = await ids(url);
      const message = (await (await fetch(`${url}/api/v1/message/${id}`)).json()) as {
        Attachments: { PartID: string; FileName: string }[];
      };
      assert.deepEqual(
        message.Attachments.map((a) => a.FileName),
        ['报告.pdf', '📎 notes.pdf', 'a"b.pdf'],
      );
      const download = await fetch(`${url}/api/v1/message/${id}/part/${message.Attachments[0]!.PartID}`);
      assert.equal(download.status, 200);
      assert.equal(
        download.headers.get('content-disposition'),
        `filename="__.pdf"; filename*=UTF-8''${encodeURIComponent('报告.pdf')}`,
      );
      assert.equal(Buffer.from(await download.arrayBuffer()).toString('latin1'), '%PDF');
    });
  });
});

describe('the inbox against hostile requests', () => {
  const tmp = tempDir('inbox-requests');

  it('refuses searches past the bounds and NUL with 400, and still answers a normal one', async () => {
    await withInbox([], async (cli, url) => {
      assert.equal(await deliver(cli, 'Subject: findme\r\n\r\nbody words\r\n'), 250);
      const search = (q: string) => fetch(`${url}/api/v1/search?query=${encodeURIComponent(q)}`);
      // 1,000 negated words (4,000 took 76 s): over the length bound. (Node refuses a URL over 16 KiB itself.)
      const many = Array.from({ length: 1000 }, (_, i) => `-w${i}`).join(' ');
      assert.equal((await search(many)).status, 400);
      assert.equal((await search(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))).status, 400);
      assert.equal((await search('find\0me')).status, 400);
      const found = (await (await search('findme -absent')).json()) as { messages_count: number };
      assert.equal(found.messages_count, 1);
      assert.match(await (await search(many)).text(), /^a search is at most 4096 characters\n$/);
    });
  });

  it('answers malformed bulk bodies 400 and deletes or marks nothing; no body deletes all', async () => {
    await withInbox([], async (cli, url) => {
      assert.equal(await deliver(cli, 'Subject: keep\r\n\r\nx\r\n'), 250);
      for (const body of ['{"IDs":[123]}', '{"IDs":"id"}', '["id"]', '{"IDs":{}}']) {
        const res = await fetch(`${url}/api/v1/messages`, { method: 'DELETE', body });
        assert.equal(res.status, 400, body);
        assert.equal((await res.text()).split('\n').length, 2, 'one line');
      }
      assert.equal((await ids(url)).length, 1);
      const put = await fetch(`${url}/api/v1/messages`, { method: 'PUT', body: '{"IDs":[1],"Read":true}' });
      assert.equal(put.status, 400);
      const unread = (await (await fetch(`${url}/api/v1/messages`)).json()) as { unread: number };
      assert.equal(unread.unread, 1);
      // Go matches keys in any case: `ids` is IDs.
      const [id] = await ids(url);
      assert.equal(
        (await fetch(`${url}/api/v1/messages`, { method: 'PUT', body: `{"ids":["${id}"],"read":true}` })).status,
        200,
      );
      assert.equal(((await (await fetch(`${url}/api/v1/messages`)).json()) as { unread: number }).unread, 0);
      assert.equal((await fetch(`${url}/api/v1/messages`, { method: 'DELETE' })).status, 200);
      assert.equal((await ids(url)).length, 0);
    });
  });

  it('caps event listeners: the 65th MailHog stream and the 65th WebSocket get 503', async () => {
    await withInbox([], async (_cli, url) => {
      // The responses are held: undici closes the connection of a response collected unread.
      const streams = await Promise.all(
        Array.from({ length: 64 }, async () => {
          const controller = new AbortController();
          const res = await fetch(`${url}/api/v1/events`, { signal: controller.signal });
          assert.equal(res.status, 200);
          return { controller, res };
        }),
      );
      const extra = await fetch(`${url}/api/v1/events`);
      assert.equal(extra.status, 503);
      for (const { controller, res } of streams) {
        controller.abort();
        await res.body?.cancel().catch(() => {});
      }
      const open = (): Promise<WebSocket | number> =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${url.replace('http:', 'ws:')}/api/events`);
          ws.once('open', () => resolve(ws));
          ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.once('error', reject);
        });
      const sockets = await Promise.all(Array.from({ length: 64 }, open));
      assert.ok(sockets.every((ws) => ws instanceof WebSocket));
      assert.equal(await open(), 503);
      for (const ws of sockets) (ws as WebSocket).terminate();
    });
  });

  it('drops a MailHog listener that never reads once 1 MiB waits for it, and serves the others on', async () => {
    await withInbox([], async (cli, url) => {
      const { port } = new URL(url);
      const slow = net.connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => slow.once('connect', resolve));
      slow.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      slow.pause(); // never reads: the kernel's buffers fill, then the server's
      const ended = new Promise<void>((resolve) => slow.once('end', resolve).once('close', resolve));
      // 80 events of 256 KiB: more than loopback's socket buffers hold, so the server's own backlog grows.
      const body = `Subject: big\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(3400);
      for (let i = 0; i < 80; i++) assert.equal(await deliver(cli, body), 250);
      let frames = 0;
      slow.setEncoding('latin1').on('data', (chunk: string) => (frames += chunk.split('event: data').length - 1));
      slow.resume();
      // The server closed it: a stream kept open would never end (bounded: 15 s).
      const timeout = new Promise<void>((_resolve, reject) => {
        setTimeout(() => reject(new Error('the slow listener was never dropped')), 15_000).unref();
      });
      await Promise.race([ended, timeout]);
      assert.ok(frames < 80, `${frames} of 80 events reached the dropped listener`);
      const events = await fetch(`${url}/api/v1/events`);
      assert.equal(events.status, 200, 'other listeners are served');
      await events.body?.cancel();
    });
  });

  it('answers a CORS preflight without credentials when --http-auth-file is on', async () => {
    await writeFile(tmp.join('users'), 'qa:s3cret\n');
    await withInbox(['--http-auth-file', tmp.join('users'), '--http-cors', 'http://app.test'], async (_cli, url) => {
      const pre = await fetch(`${url}/api/v1/messages`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://app.test', 'Access-Control-Request-Method': 'DELETE' },
      });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.test');
      assert.equal((await fetch(`${url}/api/v1/messages`)).status, 401, 'the request itself still needs them');
    });
  });
});

describe('relaying through the API follows the relay policy', () => {
  const tmp = tempDir('api-relay');
  let upstream: UpstreamServer;
  let port = 0;
  const received: string[][] = [];
  before(async () => {
    upstream = new UpstreamServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('refuse')) return cb(Object.assign(new Error('no'), { responseCode: 550 }));
        cb();
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  it('refuses a send and a release to a domain, a size or an identity SMTP would refuse', async () => {
    const args = ['--relay', `127.0.0.1:${port}`, '--relay-domains', 'allowed.test', '-s', '1k', '--require-auth'];
    await withInbox([...args, '--auth-insecure'], async (_cli, url) => {
      const refused = await apiSend(url, {}, 'victim@elsewhere.test');
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /Authentication required/, '--require-auth without --http-auth-file');
      assert.deepEqual(received, []);
    });
    await writeFile(tmp.join('users'), 'qa:pw\n');
    const auth = { Authorization: `Basic ${Buffer.from('qa:pw').toString('base64')}` };
    await withInbox([...args, '--auth-insecure', '--http-auth-file', tmp.join('users')], async (_cli, url) => {
      const send = (to: string, extra: Record<string, unknown> = {}) => apiSend(url, auth, to, extra);
      assert.match(await (await send('victim@elsewhere.test')).text(), /relaying to this domain is not allowed/);
      const big = { Attachments: [{ Content: Buffer.alloc(200 * 1024).toString('base64'), Filename: 'a.bin' }] };
      assert.match(await (await send('ok@allowed.test', big)).text(), /message size exceeds/);
      assert.deepEqual(received, []);
      assert.equal((await send('ok@allowed.test')).status, 200);
      assert.deepEqual(received, [['ok@allowed.test']]);
      const [id] = await ids(url, auth);
      const release = await fetch(`${url}/api/v1/message/${id}/release`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ To: ['victim@elsewhere.test'] }),
      });
      assert.equal(release.status, 400);
      assert.equal(received.length, 1, 'the release reached nobody');
    });
  });

  it('keeps nothing the upstream refused: three tries, no copy', async () => {
    await withInbox(['--relay', `127.0.0.1:${port}`], async (cli, url) => {
      for (let i = 0; i < 3; i++) assert.equal(await deliver(cli, 'Subject: r\r\n\r\nx\r\n', ['refuse@x.test']), 550);
      assert.deepEqual(await ids(url), []);
    });
  });
});

describe('files and peers', () => {
  const tmp = tempDir('inbox-files');

  it('--save-dir reads back regular files only: no FIFO hang, no link followed, the count true', async () => {
    const dir = tmp.path;
    for (const sub of ['new', 'cur', 'tmp']) await mkdir(path.join(dir, 'Maildir', sub), { recursive: true });
    const maildir = path.join(dir, 'Maildir');
    await writeFile(path.join(maildir, 'new', '1700000000.M1P1.host'), 'Subject: real\r\n\r\nreal\r\n');
    await writeFile(path.join(dir, 'secret'), 'Subject: secret\r\n\r\nsecret\r\n');
    await symlink(path.join(dir, 'secret'), path.join(maildir, 'new', '1700000001.M1P1.host'));
    execFileSync('mkfifo', [path.join(maildir, 'new', '1700000002.M1P1.host')]);
    await withInbox(['--save-dir', maildir], async (cli, url) => {
      assert.match(cli.stderr(), /inbox: 1 message\(s\) read from the Maildir/);
      const list = (await (await fetch(`${url}/api/v1/messages`)).json()) as { messages: { Subject: string }[] };
      assert.deepEqual(
        list.messages.map((m) => m.Subject),
        ['real'],
      );
    });
    assert.deepEqual((await readdir(path.join(maildir, 'new'))).length, 3);
  });

  it('believes a PROXY header only from --proxy-protocol-from: a direct client cannot claim a relaying address', async () => {
    const cli = await startCli([
      '-n',
      '--relay',
      '127.0.0.1:9',
      '--relay-allow',
      '10.0.0.0/8',
      '--proxy-protocol',
      '--proxy-protocol-from',
      '192.0.2.1',
      '127.0.0.1:0',
    ]);
    try {
      const socket = net.connect(cli.port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1').on('data', (s: string) => (text += s));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'PROXY TCP4 10.9.9.9 127.0.0.1 5555 25\r\nEHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n',
      );
      await new Promise((resolve) => socket.once('close', resolve));
      assert.match(text, /^220 /, 'greeted at once: no header was expected');
      assert.match(text, /\r\n550 [^\r]*relay access denied/i);
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('files the mail of an AUTH user whose folder name would pass 255 bytes', async () => {
    const dir = tmp.join('long-user');
    await withInbox(['--save-dir', dir, '--auth-insecure'], async (cli, url) => {
      const user = 'é'.repeat(50);
      const { SmtpClient } = await import('../helpers/smtp-client.js');
      const c = await SmtpClient.connect(cli.port);
      await c.read();
      await c.command('EHLO x');
      const login = await c.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0pw`).toString('base64')}`);
      assert.equal(login.code, 235);
      await c.command('MAIL FROM:<a@b.test>');
      await c.command('RCPT TO:<c@d.test>');
      await c.command('DATA');
      c.write('Subject: long\r\n\r\nx\r\n.\r\n');
      assert.equal((await c.read()).code, 250);
      await c.command('QUIT');
      assert.equal((await ids(url)).length, 1);
      const folders = (await readdir(dir)).filter((f) => f.startsWith('.'));
      assert.equal(folders.length, 1);
      assert.ok(Buffer.byteLength(folders[0]!) <= 255);
    });
  });
});
