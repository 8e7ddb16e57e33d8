/**
 * The web UI in a real Chromium (test/helpers/browser.ts) against the real
 * CLI with `--http`; mail sent by nodemailer over SMTP. What a mail must
 * never do (run a script, fetch a remote image before it is allowed) is
 * checked by its side effect: a request to a loopback server of this test,
 * which counts what it gets.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import type { Frame, Page } from 'playwright-core';
import { BROWSER_SKIP, launchBrowser, type Browser } from '../helpers/browser.js';
import { inboxUrl, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

type MailOptions = Parameters<ReturnType<typeof nodemailer.createTransport>['sendMail']>[0];

/** A 2x2 red PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73000000154944415478da63f8cfc0f09f81e13f03c37f0600' +
    '1ef204fd5b7d36570000000049454e44ae426082',
  'hex',
);

/** The loopback server a hostile mail would phone: it counts the paths it is asked for. */
class Watcher {
  readonly hits: string[] = [];
  private readonly server = http.createServer((req, res) => {
    this.hits.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': req.url?.endsWith('.css') ? 'text/css' : 'image/png' });
    res.end(req.url?.endsWith('.css') ? 'body{color:red}' : PNG);
  });
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Where screenshots go: docs/img with UPDATE_SCREENSHOTS=1 (the README's pictures), else a temporary folder. */
const SHOTS =
  process.env['UPDATE_SCREENSHOTS'] === '1' ? path.join(ROOT, 'docs', 'img') : path.join(os.tmpdir(), 'smtpd-ts-shots');

describe('the web UI in Chromium', { skip: BROWSER_SKIP }, () => {
  let cli: RunningCli;
  let browser: Browser;
  let inbox = '';
  const watcher = new Watcher();
  /** Errors thrown in the UI's pages (a mail's scripts never run, so any is the UI's). */
  const errors: string[] = [];

  before(async () => {
    await watcher.start();
    cli = await startCli(['-n', '--http', '127.0.0.1:0', '--mailbox', 'team-a=*@a.example', '127.0.0.1:0']);
    inbox = inboxUrl(cli);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await cli?.stop('SIGTERM');
    await watcher.stop();
  });
  beforeEach(async () => {
    for (const page of browser.context.pages()) await page.close();
    await fetch(`${inbox}/api/v1/messages`, { method: 'DELETE' });
    watcher.hits.length = 0;
  });
  afterEach(() => assert.deepEqual(errors.splice(0), [], 'the UI threw'));

  const mail = (message: MailOptions) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: cli.port, ignoreTLS: true })
      .sendMail({ from: 'App <app@example.test>', to: 'user@example.test', ...message });

  async function openInbox(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${inbox}/`);
    await page.waitForSelector('.live.on');
    return page;
  }

  async function openFirst(page: Page): Promise<void> {
    await page.click('li.row a');
    await page.waitForSelector('article.viewer');
  }

  /** The preview's frame, once it has loaded. */
  async function previewFrame(page: Page): Promise<Frame> {
    await page.waitForSelector('iframe');
    let frame: Frame | undefined;
    await until(
      async () => {
        frame = page.frames().find((f) => f.url().includes('/view/'));
        return frame !== undefined && (await frame.evaluate('document.readyState')) === 'complete';
      },
      5000,
      'the preview frame',
    );
    return frame!;
  }

  it('shows a message sent over SMTP in an open page without a reload, and its HTML when opened', async () => {
    const page = await openInbox();
    await page.evaluate('window.sameDocument = true');
    assert.equal(await page.locator('li.row').count(), 0);
    await mail({ subject: 'Welcome aboard', text: 'Hi', html: '<h1 id="greeting">Hello from HTML</h1>' });
    await page.waitForSelector('li.row.unread');
    assert.equal(await page.locator('li.row .subject').textContent(), 'Welcome aboard');
    assert.equal(await page.evaluate('window.sameDocument'), true);
    assert.equal(await page.title(), '(1) smtpd-ts', 'the tab counts the unread');
    await openFirst(page);
    const frame = await previewFrame(page);
    assert.equal(await frame.locator('#greeting').textContent(), 'Hello from HTML');
    assert.equal(await page.getAttribute('iframe', 'sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
    // The device-width switch.
    const width = () => page.locator('iframe').evaluate((f) => (f as unknown as { offsetWidth: number }).offsetWidth);
    await page.click('button:has-text("Phone")');
    assert.equal(await width(), 375);
    await page.click('button:has-text("Tablet")');
    assert.equal(await width(), 768);
    await until(async () => (await page.title()) === 'smtpd-ts', 5000, 'the title without unread');
    assert.equal(await page.locator('li.row.unread').count(), 0, 'opened is read');
    await page.close();
  });

  it('never runs a script, an onerror handler, a javascript: link or a refresh from a mail', async () => {
    const w = watcher.base;
    const subject = `<img src=x onerror="fetch('${w}/subject')"> hostile`;
    await mail({
      from: `"<b onmouseover=fetch('${w}/name')>Eve</b>" <eve@example.test>`,
      subject,
      text: 'plain',
      html:
        `<meta http-equiv="refresh" content="0;url=${w}/refresh">` +
        `<script>fetch('${w}/script')</script>` +
        `<img src="x" onerror="fetch('${w}/onerror')">` +
        `<svg onload="fetch('${w}/svg')"></svg>` +
        `<a id="js" href="javascript:fetch('${w}/javascript')">click me</a>` +
        `<a id="js2" href="&#106;avascript:fetch('${w}/entity')">and me</a>` +
        `<form action="${w}/form" method="post"><button id="go">send</button></form>` +
        `<iframe src="${w}/frame"></iframe><object data="${w}/object"></object>` +
        '<p id="body">still readable</p>',
    });
    const page = await openInbox();
    await page.waitForSelector('li.row');
    assert.equal(await page.locator('li.row .subject').textContent(), subject, 'the subject is text');
    await openFirst(page);
    assert.equal(await page.locator('#subject').textContent(), subject);
    assert.equal(await page.locator('img').count(), 0, 'no element made from mail text outside the sandbox');
    const frame = await previewFrame(page);
    assert.equal(await frame.locator('#body').textContent(), 'still readable');
    await frame.locator('#js').click();
    await frame.locator('#js2').click();
    await frame.locator('#go').click();
    await page.hover('#subject');
    // The preview opened on its own, outside the UI's frame, is sandboxed by its CSP too.
    const direct = await browser.context.newPage();
    await direct.goto(frame.url());
    await direct.waitForTimeout(1000);
    await direct.close();
    assert.deepEqual(watcher.hits, [], 'nothing in the mail reached the network');
    for (const p of browser.context.pages()) await p.close();
  });

  it('fetches remote images and style sheets only after the switch', async () => {
    const w = watcher.base;
    await mail({
      subject: 'Newsletter',
      html:
        `<link rel="stylesheet" href="${w}/remote.css">` +
        `<img id="pixel" src="${w}/pixel.png" width="2" height="2">` +
        `<div style="background:url(${w}/background.png)">x</div>`,
    });
    const page = await openInbox();
    await page.waitForSelector('li.row');
    await openFirst(page);
    await previewFrame(page);
    assert.equal(await page.locator('.remote-note').textContent(), '3 remote resources blockedLoad remote content');
    await page.waitForTimeout(500);
    assert.deepEqual(watcher.hits, [], 'blocked by default');
    await page.click('button.load-remote');
    await until(() => watcher.hits.includes('/pixel.png'), 5000, 'the remote image');
    await until(() => watcher.hits.includes('/remote.css'), 5000, 'the remote style sheet');
    const frame = await previewFrame(page);
    assert.equal(
      await frame.locator('#pixel').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      2,
    );
    await page.close();
  });

  it('shows cid: images from the message’s own parts, and downloads attachments and the .eml byte for byte', async () => {
    const pdf = randomBytes(20_000);
    await mail({
      subject: 'Your invoice',
      text: 'See attached.',
      html: '<p>Logo: <img id="logo" src="cid:logo@example.test"></p>',
      attachments: [
        { filename: 'invoice 2026.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'logo.png', content: PNG, contentType: 'image/png', cid: 'logo@example.test' },
      ],
    });
    const page = await openInbox();
    await page.waitForSelector('li.row .clip');
    await openFirst(page);
    const frame = await previewFrame(page);
    assert.equal(
      await frame.locator('#logo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      2,
    );
    await page.click('role=tab[name="Attachments (2)"]');
    assert.equal(await page.locator('.attachments img.thumb').count(), 1, 'a thumbnail for the image');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=invoice 2026.pdf')]);
    assert.equal(download.suggestedFilename(), 'invoice 2026.pdf');
    assert.deepEqual(await readFile((await download.path())!), pdf);
    const [eml] = await Promise.all([page.waitForEvent('download'), page.click('text=Download .eml')]);
    const id = new URL(page.url()).hash.split('/').pop()!;
    assert.equal(eml.suggestedFilename(), `${id}.eml`);
    const raw = Buffer.from(await (await fetch(`${inbox}/api/v1/message/${id}/raw`)).arrayBuffer());
    assert.deepEqual(await readFile((await eml.path())!), raw);
    await page.close();
  });

  it('shows the envelope, the SMTP dialogue and the lint', async () => {
    await mail({ subject: 'Envelope', text: 'hi', envelope: { from: 'bounce@example.test', to: ['a@example.test'] } });
    const page = await openInbox();
    await page.waitForSelector('li.row');
    await openFirst(page);
    await page.click('role=tab[name="SMTP"]');
    const session = (await page.locator('.session').textContent())!;
    assert.match(session, /MAIL FROM<?bounce@example\.test/);
    assert.match(session, /RCPT TOa@example\.test/);
    assert.match(session, /TLSnone/);
    assert.match(session, /C: MAIL FROM:<bounce@example\.test>/);
    assert.match(session, /S: 250 /);
    await page.close();
  });

  it('narrows the list with a search, and a delete in one page removes the message from another', async () => {
    await mail({ subject: 'Password reset', text: 'token 1' });
    await mail({ subject: 'Invoice 42', text: 'money' });
    await mail({ subject: 'Weekly digest', text: 'news' });
    const one = await openInbox();
    const two = await openInbox();
    await until(async () => (await one.locator('li.row').count()) === 3, 5000, 'three rows');
    await one.fill('#search', 'subject:invoice');
    await one.press('#search', 'Enter');
    await until(async () => (await one.locator('li.row').count()) === 1, 5000, 'one match');
    assert.equal(await one.locator('li.row .subject').textContent(), 'Invoice 42');
    await one.click('li.row a');
    await one.waitForSelector('article.viewer');
    await two.waitForSelector('li.row');
    assert.equal(await two.locator('li.row').count(), 3);
    // The Delete key, away from the search field.
    await one.locator('#subject').click();
    await one.keyboard.press('Delete');
    await until(async () => (await two.locator('li.row').count()) === 2, 5000, 'the other page to drop it');
    assert.deepEqual(await two.locator('li.row .subject').allTextContents(), ['Weekly digest', 'Password reset']);
    await one.close();
    await two.close();
  });

  it('shows one mailbox at a time or all of them, each row with its mailbox', async () => {
    await mail({ to: 'dev@a.example', subject: 'For team A', text: 'a' });
    await mail({ subject: 'For nobody in particular', text: 'b' });
    const page = await openInbox();
    await until(async () => (await page.locator('li.row').count()) === 2, 5000, 'two rows');
    assert.deepEqual(await page.locator('li.row .mailbox-badge').allTextContents(), ['team-a']);
    await page.selectOption('select', 'team-a');
    await until(async () => (await page.locator('li.row').count()) === 1, 5000, 'one mailbox');
    assert.equal(await page.locator('li.row .subject').textContent(), 'For team A');
    assert.match(page.url(), /\?mailbox=team-a$/);
    await page.reload();
    await until(async () => (await page.locator('li.row').count()) === 1, 5000, 'the mailbox kept on reload');
    await page.selectOption('select', '');
    await until(async () => (await page.locator('li.row').count()) === 2, 5000, 'all mailboxes');
    await page.close();
  });

  it('notifies on the desktop of new mail once asked, and the tab title counts the unread', async () => {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // The browser's notifications, recorded: the test sees what the page would show.
    await page.addInitScript(
      `window.shown = []; window.Notification = class { static permission = 'default';
        static requestPermission() { window.Notification.permission = 'granted'; return Promise.resolve('granted'); }
        constructor(title, options) { window.shown.push([title, options && options.body]); } };`,
    );
    await page.goto(`${inbox}/`);
    await page.waitForSelector('.live.on');
    await page.click('button:has-text("Notifications")');
    await until(
      async () => (await page.getAttribute('button:has-text("Notifications")', 'aria-pressed')) === 'true',
      5000,
      'on',
    );
    await mail({ from: 'Shop <news@shop.example>', subject: 'Sale <b>now</b>', text: 'x' });
    await mail({ subject: 'Second', text: 'y' });
    await until(async () => (await page.evaluate<unknown[]>('window.shown')).length === 2, 5000, 'two notifications');
    assert.deepEqual(await page.evaluate('window.shown'), [
      ['New mail from Shop', 'Sale <b>now</b>'],
      ['New mail from App', 'Second'],
    ]);
    await until(async () => (await page.title()) === '(2) smtpd-ts', 5000, 'the unread count in the title');
    await page.close();
  });

  it('moves with the keyboard: j and k open the next and previous, / focuses the search, Esc goes back', async () => {
    for (const subject of ['first', 'second', 'third']) await mail({ subject, text: subject });
    const page = await openInbox();
    await until(async () => (await page.locator('li.row').count()) === 3, 5000, 'three rows');
    await page.keyboard.press('j');
    await page.waitForSelector('#subject');
    assert.equal(await page.locator('#subject').textContent(), 'third');
    await page.keyboard.press('j');
    await until(async () => (await page.locator('#subject').textContent()) === 'second', 5000, 'the next message');
    await page.keyboard.press('k');
    await until(async () => (await page.locator('#subject').textContent()) === 'third', 5000, 'the previous message');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'search');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await until(async () => (await page.locator('article.viewer').count()) === 0, 5000, 'back to the list');
    await page.close();
  });

  it('takes screenshots at 1280 and 360 px, light and dark, and fits 360 px', async () => {
    await mail({
      from: 'Shop <news@shop.example>',
      subject: 'Spring sale: 20% off everything',
      text: 'Our spring sale starts today.',
      html: '<h1 style="color:#b3261e">Spring sale</h1><p>Our spring sale starts today. <a href="https://shop.example/">Shop now</a></p>',
      attachments: [{ filename: 'catalogue.pdf', content: Buffer.from('%PDF-1.4'), contentType: 'application/pdf' }],
    });
    await mail({ from: 'Accounts <no-reply@bank.example>', subject: 'Reset your password', text: 'Use this link.' });
    await mail({ from: 'CI <ci@build.example>', subject: 'Build #1024 passed', text: 'All 899 tests passed.' });
    await mkdir(SHOTS, { recursive: true });
    const page = await openInbox();
    await until(async () => (await page.locator('li.row').count()) === 3, 5000, 'three rows');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.click('li.row >> nth=2');
      await previewFrame(page);
      const wide = await page.screenshot({ path: path.join(SHOTS, `inbox-1280-${scheme}.png`) });
      assert.ok(wide.length > 10_000);
      await page.setViewportSize({ width: 360, height: 740 });
      await page.waitForSelector('button.back');
      await page.screenshot({ path: path.join(SHOTS, `message-360-${scheme}.png`) });
      await page.keyboard.press('Escape');
      await page.waitForSelector('li.row');
      const narrow = await page.screenshot({ path: path.join(SHOTS, `inbox-360-${scheme}.png`) });
      assert.ok(narrow.length > 5_000);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 360, `the page is ${width} px wide at 360`);
    }
    await writeFile(path.join(SHOTS, 'README.txt'), 'Taken by test/web/web-ui.test.ts (UPDATE_SCREENSHOTS=1).\n');
    await page.close();
  });
});
