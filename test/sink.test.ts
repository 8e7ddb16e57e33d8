/**
 * The library API for test suites: startSink, waiting without sleeps, and
 * errors that say what did arrive. Mail is sent with nodemailer, a real
 * client, as an application under test would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { MailpitClient } from 'mailpit-api';
import { startSink } from '../src/sink.js';
import { reply, type Verdict } from '../src/index.js';
import { SmtpClient } from './helpers/smtp-client.js';
import { SinkTimeoutError } from '../src/errors.js';

function transport(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
}

describe('startSink', () => {
  it('listens on a free port and records messages with envelope, raw bytes and parsed fields', async () => {
    const sink = await startSink();
    try {
      assert.ok(sink.port > 0);
      await transport(sink.port).sendMail({
        from: 'App <app@example.test>',
        to: 'user@example.test',
        bcc: 'audit@example.test',
        subject: 'Grüße',
        text: 'Hello there',
        attachments: [{ filename: 'a.txt', content: 'attached' }],
      });
      const [m] = await sink.waitForMessages(1);
      assert.equal(m!.mailFrom, 'app@example.test');
      assert.deepEqual(m!.rcptTo, ['user@example.test', 'audit@example.test']);
      assert.equal(m!.helo.length > 0, true);
      assert.ok(m!.raw.includes('Subject: '));
      assert.equal(m!.size, m!.raw.length);
      assert.equal(m!.parsed?.subject, 'Grüße');
      assert.equal(m!.parsed?.text?.trim(), 'Hello there');
      assert.equal(m!.parsed?.attachments[0]?.filename, 'a.txt');
      assert.equal(m!.peer.address, '127.0.0.1');
    } finally {
      await sink.close();
    }
  });

  it('resolves waitForMessages at once when the messages are already there', async () => {
    const sink = await startSink({ parse: false });
    try {
      await transport(sink.port).sendMail({ from: 'a@x.test', to: 'b@x.test', text: 'one' });
      const got = await sink.waitForMessages(1, { timeout: 1 });
      assert.equal(got.length, 1);
      assert.equal(got[0]!.parsed, null);
    } finally {
      await sink.close();
    }
  });

  it('waitFor finds a future message matching a predicate', async () => {
    const sink = await startSink();
    try {
      const waiting = sink.waitFor((m) => m.rcptTo.includes('second@x.test'), { timeout: 5000 });
      const t = transport(sink.port);
      await t.sendMail({ from: 'a@x.test', to: 'first@x.test', subject: 'one', text: '1' });
      await t.sendMail({ from: 'a@x.test', to: 'second@x.test', subject: 'two', text: '2' });
      assert.equal((await waiting).parsed?.subject, 'two');
    } finally {
      await sink.close();
    }
  });

  it("waitFor takes Mailpit's query language, and after: counts only later messages", async () => {
    const sink = await startSink();
    try {
      const t = transport(sink.port);
      await t.sendMail({ from: 'a@x.test', to: 'dev+t1@x.test', subject: 'Welcome Ann', text: 'token 111' });
      const first = await sink.waitFor('subject:welcome to:dev+t1@x.test');
      assert.equal(first.parsed?.subject, 'Welcome Ann');
      // The next welcome, not the one already here: held until it arrives.
      const next = sink.waitFor('subject:welcome', { after: first, timeout: 5000 });
      await t.sendMail({ from: 'a@x.test', to: 'dev+t2@x.test', subject: 'Other', text: 'token 222' });
      await t.sendMail({ from: 'a@x.test', to: 'dev+t2@x.test', subject: 'Welcome Bob', text: 'token 333' });
      assert.equal((await next).parsed?.subject, 'Welcome Bob');
      assert.equal((await sink.waitFor('333 -subject:other', { after: first.id })).parsed?.subject, 'Welcome Bob');
      await assert.rejects(sink.waitFor('subject:welcome', { after: 'no-such-id' }), /after: no message no-such-id/);
      assert.throws(() => sink.waitFor('x'.repeat(5000)), /waitFor: a search is at most/);
      await assert.rejects(sink.waitFor('subject:never', { timeout: 50 }), /matching 'subject:never'/);
    } finally {
      await sink.close();
    }
  });

  it('rejects a timed-out wait with an error listing what did arrive', async () => {
    const sink = await startSink();
    try {
      await transport(sink.port).sendMail({ from: 'a@x.test', to: 'b@x.test', subject: 'only one', text: '1' });
      const err = await sink.waitForMessages(2, { timeout: 50 }).then(
        () => assert.fail('should time out'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SinkTimeoutError);
      assert.equal(err.code, 'ERR_SMTPD_SINK_TIMEOUT');
      assert.match(
        err.message,
        /waiting for 2 messages; 1 arrived:\n {2}#1 from a@x\.test to b@x\.test subject "only one"/,
      );
      assert.equal(err.received.length, 1);
    } finally {
      await sink.close();
    }
  });

  it('lets onMessage refuse a message, which the client hears and the sink does not record', async () => {
    const sink = await startSink({
      onMessage: (m) => (m.rcptTo.some((r) => r.startsWith('bounce@')) ? '550 No such user' : undefined),
    });
    try {
      await assert.rejects(
        transport(sink.port).sendMail({ from: 'a@x.test', to: 'bounce@x.test', text: 'x' }),
        /550 No such user/,
      );
      await transport(sink.port).sendMail({ from: 'a@x.test', to: 'ok@x.test', text: 'x' });
      assert.deepEqual(
        sink.messages.map((m) => m.rcptTo[0]),
        ['ok@x.test'],
      );
      sink.clear();
      assert.equal(sink.messages.length, 0);
    } finally {
      await sink.close();
    }
  });

  it('does not record a message whose onMessage verdict the server turns into 451 (a string without a code)', async () => {
    const sink = await startSink({ onMessage: () => 'garbage' });
    try {
      await assert.rejects(transport(sink.port).sendMail({ from: 'a@x.test', to: 'b@x.test', text: 'x' }), /451/);
      assert.equal(sink.messages.length, 0);
    } finally {
      await sink.close();
    }
  });

  it('closes: the port stops accepting connections', async () => {
    const sink = await startSink();
    await sink.close();
    await assert.rejects(SmtpClient.connect(sink.port, '127.0.0.1', 2000));
  });
});

describe('startSink({ http })', () => {
  it('serves the accepted messages to the published Mailpit client, and not the refused ones', async () => {
    const sink = await startSink({
      http: true,
      onMessage: (m) => (m.parsed?.subject === 'refused' ? '550 no thanks' : undefined),
    });
    try {
      assert.match(sink.httpUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      const mail = transport(sink.port);
      await mail.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Welcome', text: 'Hi there' });
      await assert.rejects(
        mail.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'refused', text: 'x' }),
      );
      const mailpit = new MailpitClient(sink.httpUrl!);
      const message = await mailpit.waitForMessage({ query: 'subject:welcome' }, { timeout: 3000, interval: 50 });
      assert.equal(message.Text.trim(), 'Hi there');
      assert.equal((await mailpit.listMessages()).total, 1);
    } finally {
      await sink.close();
    }
    await assert.rejects(fetch(`${sink.httpUrl}/livez`), 'the HTTP server is closed with the sink');
  });

  it('keeps in the inbox exactly what the client was told 2xx, whatever form the verdict takes', async () => {
    // Each subject names the verdict; the server's reply and the inbox must agree on every one.
    const verdicts: Record<string, Verdict> = {
      'a Reply 250': reply(250, 'taken'),
      'a string 250': '250 fine',
      nothing: undefined,
      'a Reply 550': reply(550, 'no'),
      'a string 451': '451 later',
      'a string without a code': '2xx nonsense',
      'an empty reply code': '25',
    };
    const sink = await startSink({ http: true, onMessage: (m) => verdicts[m.parsed?.subject ?? ''] });
    const client = await SmtpClient.connect(sink.port);
    try {
      await client.read();
      await client.command('EHLO test');
      const answered: Record<string, number> = {};
      for (const subject of Object.keys(verdicts)) {
        await client.command('MAIL FROM:<app@example.test>');
        await client.command('RCPT TO:<user@example.test>');
        await client.command('DATA');
        answered[subject] = (await client.command(`Subject: ${subject}\r\n\r\nbody\r\n.`)).code;
      }
      const listed = (await (await fetch(`${sink.httpUrl}/api/v1/messages`)).json()) as {
        messages: { Subject: string }[];
      };
      const stored = listed.messages.map((m) => m.Subject).sort();
      const accepted = Object.keys(answered).filter((s) => answered[s]! < 400);
      assert.deepEqual(answered, {
        'a Reply 250': 250,
        'a string 250': 250,
        nothing: 250,
        'a Reply 550': 550,
        'a string 451': 451,
        'a string without a code': 451,
        'an empty reply code': 451,
      });
      assert.deepEqual(stored, accepted.sort());
      assert.deepEqual(sink.messages.map((m) => m.parsed?.subject).sort(), accepted);
    } finally {
      await client.close();
      await sink.close();
    }
  });
});
