/**
 * `--metrics`: Prometheus's text format, scraped through the real CLI,
 * beside `--http` and on an address of its own, after real SMTP sessions.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertUsageError, inboxUrl, startCli, type RunningCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';

const mail = (to: string, body = 'hello') =>
  `From: app@example.test\r\nTo: ${to}\r\nSubject: metrics\r\n\r\n${body}\r\n`;

/** The value of the sample `name{labels}` in a scrape (labels as written, in order), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('--metrics', () => {
  const running: RunningCli[] = [];
  after(async () => {
    for (const cli of running) await cli.stop();
  });

  it('counts sessions, messages, sizes, refusals and the inbox at /metrics beside --http', async () => {
    const cli = await startCli([
      '-o',
      'headers:/dev/null',
      '-s',
      '2k',
      '--http',
      '127.0.0.1:0',
      '--metrics',
      '--mailbox',
      'team=*@team.test',
      '127.0.0.1:0',
    ]);
    running.push(cli);
    const url = inboxUrl(cli);
    assert.match(cli.stderr(), new RegExp(`metrics on ${url}/metrics`));
    const send = (to: string, body?: string) =>
      sendMail(cli.port, { from: 'app@example.test', to: [to], data: mail(to, body) });
    assert.equal((await send('a@example.test')).at(-2), 250);
    assert.equal((await send('b@team.test')).at(-2), 250);
    assert.equal((await send('c@example.test', 'x'.repeat(4096))).at(-2), 552, 'over -s 2k');

    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, 'smtpd_ts_messages_accepted_total'), 2);
    assert.equal(sample(text, 'smtpd_ts_message_size_bytes_count'), 2);
    assert.ok(sample(text, 'smtpd_ts_message_size_bytes_sum')! > 100);
    assert.equal(sample(text, 'smtpd_ts_sessions_total'), 3);
    assert.equal(sample(text, 'smtpd_ts_connections'), 0);
    assert.match(text, /^smtpd_ts_refusals_total\{command="[A-Z]+",code="552"\} 1$/m);
    assert.equal(sample(text, 'smtpd_ts_inbox_messages'), 2);
    assert.equal(sample(text, 'smtpd_ts_inbox_unread'), 2);
    assert.ok(sample(text, 'smtpd_ts_inbox_bytes')! > 100);
    assert.equal(sample(text, 'smtpd_ts_mailbox_messages', 'mailbox="team",state="all"'), 1);
    assert.equal(sample(text, 'smtpd_ts_mailbox_messages', 'mailbox="team",state="unread"'), 1);
    // Node's own, from prom-client's defaults.
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 1e6);
    assert.notEqual(sample(text, 'nodejs_eventloop_lag_seconds'), undefined);

    // Reading a message changes what the next scrape says.
    const list = (await (await fetch(`${url}/api/v1/messages`)).json()) as { messages: { ID: string }[] };
    await fetch(`${url}/api/v1/message/${list.messages[0]!.ID}`);
    assert.equal(sample(await (await fetch(`${url}/metrics`)).text(), 'smtpd_ts_inbox_unread'), 1);
  });

  it('serves /metrics alone on an address of its own, without --http', async () => {
    const cli = await startCli(['-o', 'headers:/dev/null', '--metrics', '127.0.0.1:0', '127.0.0.1:0']);
    running.push(cli);
    const url = /metrics on (http:\/\/\S+\/metrics)/.exec(cli.stderr())?.[1];
    assert.ok(url, cli.stderr());
    await sendMail(cli.port, { from: 'app@example.test', to: ['a@example.test'], data: mail('a@example.test') });
    const text = await (await fetch(url)).text();
    assert.equal(sample(text, 'smtpd_ts_messages_accepted_total'), 1);
    assert.equal(sample(text, 'smtpd_ts_inbox_messages'), undefined, 'no inbox, no inbox figures');
    const base = url.replace(/\/metrics$/, '');
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/api/v1/messages`)).status, 404);
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  });

  it('is 404 at /metrics without the flag, and refuses what it cannot do', async () => {
    const cli = await startCli(['-o', 'headers:/dev/null', '--http', '127.0.0.1:0', '127.0.0.1:0']);
    running.push(cli);
    assert.equal((await fetch(`${inboxUrl(cli)}/metrics`)).status, 404);
    // (The helper adds the SMTP address last: `-n` keeps it from being --metrics' value.)
    assertUsageError(['--metrics', '-n']);
    assertUsageError(['--metrics', '127.0.0.1:0', '--workers', '2']);
    assertUsageError(['--metrics', 'nowhere:port']);
  });
});
