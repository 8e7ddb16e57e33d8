/**
 * The inbox as a service: over HTTPS (its own certificate, or the SMTP
 * side's), and at a sub-path (`--http-webroot`) behind a real reverse
 * proxy (Debian's HAProxy), the web UI in a real Chromium included.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { BROWSER_SKIP, launchBrowser } from '../helpers/browser.js';
import { assertUsageError, startCli, type RunningCli } from '../helpers/cli.js';
import { Balancer, HAPROXY_SKIP } from '../helpers/haproxy.js';
import { sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testCredentials } from '../helpers/tls-credentials.js';
import { until } from '../helpers/until.js';

const mail = (subject: string) =>
  `From: app@example.test\r\nTo: dev@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`;

/** GET over HTTPS trusting `ca`; the status, body and the certificate the server showed. */
function httpsGet(url: string, ca: string | null): Promise<{ status: number; body: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, ca === null ? { rejectUnauthorized: false } : { ca }, (res) => {
      const raw = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!;
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert: raw }));
    });
    req.on('error', reject);
  });
}

/** The inbox URL from the start line (`inbox over HTTP on URL/`), scheme and path included. */
const inboxAt = (cli: RunningCli) => /inbox over HTTP on (https?:\/\/\S+?)\/?\s/.exec(cli.stderr())?.[1];

describe('the inbox as a service', () => {
  const running: RunningCli[] = [];
  const tmp = tempDir('http-service');
  after(async () => {
    for (const cli of running) await cli.stop();
  });
  const sink = async (args: string[]) => {
    const cli = await startCli(['-o', 'headers:/dev/null', ...args]);
    running.push(cli);
    return cli;
  };

  it('serves HTTPS with the certificate given, and only HTTPS', async () => {
    const { cert, key } = await testCredentials();
    const certFile = path.join(tmp.path, 'cert.pem');
    const keyFile = path.join(tmp.path, 'key.pem');
    await writeFile(certFile, cert);
    await writeFile(keyFile, key);
    const cli = await sink([
      '--http',
      '127.0.0.1:0',
      '--http-tls-cert',
      certFile,
      '--http-tls-key',
      keyFile,
      '127.0.0.1:0',
    ]);
    const url = inboxAt(cli)!;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await sendMail(cli.port, { from: 'app@example.test', to: ['dev@example.test'], data: mail('over https') });
    const res = await httpsGet(`${url}/api/v1/messages`, cert);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { messages: { Subject: string }[] }).messages[0]!.Subject, 'over https');
    assert.equal(res.cert.fingerprint256, new X509Certificate(cert).fingerprint256);
    await assert.rejects(fetch(url.replace('https:', 'http:') + '/api/v1/messages'), 'plain HTTP is not answered');
  });

  it("takes the SMTP side's certificate with --http-tls", async () => {
    const cli = await sink(['--tls', '--http', '127.0.0.1:0', '--http-tls', '127.0.0.1:0']);
    const smtpFingerprint = /TLS self-signed certificate .*: SHA-256 fingerprint (\S+)/.exec(cli.stderr())?.[1];
    assert.ok(smtpFingerprint, cli.stderr());
    const res = await httpsGet(`${inboxAt(cli)!}/api/v1/info`, null);
    assert.equal(res.status, 200);
    assert.equal(res.cert.fingerprint256, smtpFingerprint);
  });

  it('refuses HTTPS flags that do not go together', () => {
    assertUsageError(['--http', '127.0.0.1:0', '--http-tls-cert', 'c.pem']);
    assertUsageError(['--http', '127.0.0.1:0', '--http-tls', '--http-tls-cert', 'c.pem', '--http-tls-key', 'k.pem']);
    assertUsageError(['--http-tls', '-n']);
    assertUsageError(['--http', '127.0.0.1:0', '--http-webroot', '/../x/']);
  });

  it(
    'serves the inbox, its API, its events and its UI under --http-webroot behind HAProxy',
    { skip: HAPROXY_SKIP },
    async (t) => {
      const cli = await sink(['--http', '127.0.0.1:0', '--http-webroot', 'mail', '127.0.0.1:0']);
      const direct = inboxAt(cli)!;
      assert.match(direct, /^http:\/\/127\.0\.0\.1:\d+\/mail$/);
      const port = Number(new URL(direct).port);
      const proxy = await Balancer.httpPrefix('/mail/', port);
      t.after(() => proxy.stop());
      const site = `http://127.0.0.1:${proxy.port}`;

      // Outside the webroot: nothing, on the sink itself too.
      assert.equal((await fetch(`${site}/api/v1/messages`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/messages`)).status, 404);
      // `/mail` is sent to `/mail/`, whose page takes its files relative to itself.
      const bare = await fetch(`${site}/mail`, { redirect: 'manual' });
      assert.equal(bare.status, 301);
      assert.equal(bare.headers.get('location'), '/mail/');
      const page = await (await fetch(`${site}/mail/`)).text();
      assert.match(page, /src="assets\/app\.js"/);
      assert.equal((await fetch(`${site}/mail/assets/app.js`)).status, 200);

      // The events through the proxy: a WebSocket at /mail/api/events hears the next message.
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/mail/api/events`);
      const events: string[] = [];
      ws.on('message', (data) => events.push(String(data)));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      await sendMail(cli.port, { from: 'app@example.test', to: ['dev@example.test'], data: mail('under a sub-path') });
      await until(() => events.some((e) => e.includes('under a sub-path')), 10_000, 'the new-message event');
      ws.close();

      const list = (await (await fetch(`${site}/mail/api/v1/messages`)).json()) as {
        messages: { ID: string; Subject: string }[];
      };
      assert.equal(list.messages[0]!.Subject, 'under a sub-path');
      const id = list.messages[0]!.ID;
      assert.match(await (await fetch(`${site}/mail/view/${id}.txt`)).text(), /hello/);
      assert.equal((await fetch(`${site}/mail/api/v2/messages`)).status, 200, "MailHog's API too");

      if (BROWSER_SKIP) return t.diagnostic(BROWSER_SKIP);
      const browser = await launchBrowser();
      t.after(() => browser.close());
      const html =
        'From: app@example.test\r\nTo: dev@example.test\r\nSubject: html under a sub-path\r\n' +
        'Content-Type: text/html\r\n\r\n<p>the html body</p>\r\n';
      await sendMail(cli.port, { from: 'app@example.test', to: ['dev@example.test'], data: html });
      const tab = await browser.context.newPage();
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(new URL(r.url()).pathname));
      await tab.goto(`${site}/mail/`);
      await tab.getByText('html under a sub-path').first().click();
      // The preview's frame comes from /mail/view/ID.html, through the proxy.
      await tab.frameLocator('iframe').first().getByText('the html body').waitFor();
      assert.ok(requests.length > 3, requests.join(' '));
      assert.deepEqual(
        requests.filter((p) => !p.startsWith('/mail/')),
        [],
        'the UI asks for nothing outside its webroot',
      );
    },
  );
});
