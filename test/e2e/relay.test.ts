/**
 * PureProxy end to end, through the real CLI: into a second smtpd-ts and
 * into Python's smtpd, the replies the client hears when the upstream is
 * down, silent, deferring, refusing some or all recipients, and the
 * open-relay guards. (`--deliver` through the CLI: relay-deliver.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { NODE_ARGS, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { validate } from '../helpers/json-schema.js';
import { freePort } from '../helpers/free-port.js';
import { smtpdUnavailable, startPythonSmtpd } from '../helpers/python-smtpd.js';
import {
  startScriptedUpstream,
  startSilentUpstream,
  startStubbornUpstream,
  type ScriptedUpstream,
} from '../helpers/scripted-upstream.js';
import { SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';

/** A message as sent on the wire (dot-stuffed), and as it is once unstuffed. */
const WIRE = Buffer.from(
  'From: a@example.test\r\nSubject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9 \xff\r\n..\r\n...two dots\r\n.x\r\n',
  'latin1',
);
const UNSTUFFED = Buffer.from(
  'From: a@example.test\r\nSubject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9 \xff\r\n.\r\n..two dots\r\nx\r\n',
  'latin1',
);
const withXPeer = (data: Buffer) =>
  Buffer.from(data.toString('latin1').replace('\r\n\r\n', '\r\nX-Peer: 127.0.0.1\r\n\r\n'), 'latin1');

interface Sent {
  readonly rcpt: SmtpReply[];
  /** The reply after the data, or undefined when no recipient was accepted. */
  readonly data: SmtpReply | undefined;
}

/** Sends one message and returns the RCPT replies and the final reply. */
async function send(
  port: number,
  from: string,
  to: string[],
  data: Buffer = WIRE,
  mailParams = ' BODY=8BITMIME',
): Promise<Sent> {
  const c = await SmtpClient.connect(port);
  try {
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command(`MAIL FROM:<${from}>${mailParams}`)).code, 250);
    const rcpt: SmtpReply[] = [];
    for (const r of to) rcpt.push(await c.command(`RCPT TO:<${r}>`));
    if (!rcpt.some((r) => r.code === 250)) return { rcpt, data: undefined };
    assert.equal((await c.command('DATA')).code, 354);
    c.write(data);
    c.write('.\r\n');
    const reply = await c.read(20_000);
    await c.command('QUIT');
    return { rcpt, data: reply };
  } finally {
    c.close();
  }
}

/** The JSON lines the CLI printed, once there are `n`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON records read field by field in the assertions
type Json = Record<string, any>;

async function jsonLines(cli: RunningCli, n: number): Promise<Json[]> {
  await cli.waitForStdout((out) => out.split('\n').filter(Boolean).length >= n);
  return cli
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);
}

describe('PureProxy into a second smtpd-ts', () => {
  let upstream: RunningCli;
  let proxy: RunningCli;
  before(async () => {
    upstream = await startCli(['-f', 'json', '--json-raw', '127.0.0.1:0']);
    proxy = await startCli(['-c', 'PureProxy', '-f', 'json', '127.0.0.1:0', `127.0.0.1:${upstream.port}`]);
  });
  after(async () => {
    await proxy?.stop();
    await upstream?.stop();
  });

  it('delivers the envelope and the dot-stuffed 8-bit body byte for byte, with X-Peer added, before its 250', async () => {
    const sent = await send(proxy.port, 'sender@example.test', ['one@example.test', 'two@example.test']);
    assert.equal(sent.data?.code, 250);
    // The upstream printed it before its 250, and so before ours.
    const [got] = await jsonLines(upstream, 1);
    assert.equal(got!.mailFrom, 'sender@example.test');
    assert.deepEqual(got!.rcptTo, ['one@example.test', 'two@example.test']);
    assert.ok(got!.mailOptions.includes('BODY=8BITMIME'), got!.mailOptions.join(' '));
    assert.ok(got!.mailOptions.includes(`SIZE=${withXPeer(UNSTUFFED).length}`), got!.mailOptions.join(' '));
    assert.deepEqual(Buffer.from(got!.raw, 'base64'), withXPeer(UNSTUFFED));
    assert.equal(got!.peer.address, '127.0.0.1');
  });

  it('prints what it relayed, with the outcome, in a record that fits the JSON schema', async () => {
    const [record] = await jsonLines(proxy, 1);
    assert.deepEqual(record!.relay, {
      upstream: `127.0.0.1:${upstream.port}`,
      accepted: ['one@example.test', 'two@example.test'],
      refused: [],
    });
    assert.deepEqual(validate(JSON_SCHEMA, record), []);
  });

  it('relays the null sender as <>', async () => {
    assert.equal((await send(proxy.port, '', ['bounce@example.test'])).data?.code, 250);
    const lines = await jsonLines(upstream, 2);
    assert.equal(lines[1]!.mailFrom, '<>');
  });
});

describe('PureProxy into Python smtpd', () => {
  const unavailable = smtpdUnavailable();

  it('delivers the message Python prints, X-Peer included', { skip: unavailable }, async () => {
    const smtpd = await startPythonSmtpd();
    let proxy: RunningCli | undefined;
    try {
      proxy = await startCli(['-c', 'PureProxy', '127.0.0.1:0', `127.0.0.1:${smtpd.port}`]);
      assert.equal((await send(proxy.port, 'sender@example.test', ['py@example.test'])).data?.code, 250);
      await smtpd.waitForStdout((out) => out.includes('END MESSAGE'), 'the message');
      // Python prints each line as a bytes repr, and its own X-Peer at the empty line.
      const expected = [
        "mail options: ['BODY=8BITMIME']",
        "b'From: a@example.test'",
        "b'Subject: caf\\xc3\\xa9'",
        "b'X-Peer: 127.0.0.1'",
        "b'X-Peer: 127.0.0.1'",
        "b''",
        "b'caf\\xc3\\xa9 \\xff'",
        "b'.'",
        "b'..two dots'",
        "b'x'",
      ].join('\n');
      assert.ok(smtpd.stdout().includes(expected), smtpd.stdout());
      assert.match(smtpd.stderr(), /===> MAIL FROM:<sender@example.test> BODY=8BITMIME/);
    } finally {
      await proxy?.stop();
      await smtpd.stop();
    }
  });
});

describe('what the client hears from PureProxy', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningCli;
  before(async () => {
    upstream = await startScriptedUpstream({
      rcpt: (a) =>
        a.startsWith('unknown')
          ? '550 5.1.1 No such user'
          : a.startsWith('busy')
            ? '451 4.3.0 Try again later'
            : undefined,
    });
    proxy = await startCli(['--relay', `127.0.0.1:${upstream.port}`, '-f', 'json', '127.0.0.1:0']);
  });
  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('250 for a partial refusal, the refused recipient on stderr and in JSON', async () => {
    const sent = await send(proxy.port, 's@example.test', ['ok@example.test', 'unknown@example.test']);
    assert.equal(sent.data?.code, 250);
    assert.deepEqual(upstream.messages.at(-1)!.rcptTo, ['ok@example.test']);
    const [record] = await jsonLines(proxy, 1);
    assert.deepEqual(record!.relay.refused, [
      { address: 'unknown@example.test', code: 550, message: '5.1.1 No such user' },
    ]);
    assert.match(proxy.stderr(), /refused unknown@example\.test: 550 5\.1\.1 No such user/);
  });

  it("the upstream's 5xx when it refuses every recipient", async () => {
    const sent = await send(proxy.port, 's@example.test', ['unknown@example.test']);
    assert.deepEqual(sent.data, { code: 550, lines: ['5.1.1 No such user'] });
  });

  it('451 when the upstream defers a recipient', async () => {
    const sent = await send(proxy.port, 's@example.test', ['busy@example.test']);
    assert.equal(sent.data?.code, 451);
  });
});

describe('PureProxy with an upstream that is not there', () => {
  it('answers 451 when the upstream is down, and still prints the message', async () => {
    const proxy = await startCli(['--relay', `127.0.0.1:${await freePort()}`, '-f', 'json', '127.0.0.1:0']);
    try {
      const sent = await send(proxy.port, 's@example.test', ['a@example.test']);
      assert.equal(sent.data?.code, 451);
      assert.match(sent.data!.lines[0]!, /ECONNREFUSED/);
      const [record] = await jsonLines(proxy, 1);
      assert.equal(record!.relay.refused[0].code, 451);
    } finally {
      await proxy.stop();
    }
  });

  it('answers 451 when the upstream says nothing within --relay-timeout', async () => {
    const silent = await startSilentUpstream();
    const proxy = await startCli(['--relay', `127.0.0.1:${silent.port}`, '--relay-timeout', '0.5', '127.0.0.1:0']);
    try {
      const started = Date.now();
      assert.equal((await send(proxy.port, 's@example.test', ['a@example.test'])).data?.code, 451);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await proxy.stop();
      await silent.close();
    }
  });
});

describe('PureProxy with an upstream that never closes its side', () => {
  for (const afterData of ['451 4.3.0 Try again later', '550 5.7.1 Refused', '250 ok']) {
    it(`ends the session with QUIT after ${afterData.slice(0, 3)} and lets go of the socket`, async () => {
      const upstream = await startStubbornUpstream(afterData);
      // A --relay-timeout far past the test's own bound: nothing may wait on it.
      const proxy = await startCli(['--relay', `127.0.0.1:${upstream.port}`, '--relay-timeout', '600', '127.0.0.1:0']);
      try {
        assert.equal(
          (await send(proxy.port, 's@example.test', ['a@example.test'])).data?.code,
          Number(afterData.slice(0, 3)),
        );
        await upstream.closed();
        assert.equal(upstream.commands.at(-1), 'QUIT');
      } finally {
        // Before the fix the socket was only ended, and SIGTERM waited on it (5 s, nodemailer's close grace).
        assert.deepEqual(await proxy.stop(), { code: 0, signal: null });
        await upstream.close();
      }
    });
  }
});

describe('never an open relay', () => {
  const exec = promisify(execFile);

  it('refuses to start relaying on a non-loopback address without --relay-allow: exit 2', async () => {
    const r = await exec(process.execPath, [...NODE_ARGS, '-c', 'PureProxy', '0.0.0.0:0', '127.0.0.1:25'], {
      cwd: ROOT,
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^smtpd-ts: refusing to relay while listening on 0\.0\.0\.0: that would be an open relay/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });

  it('answers 550 at RCPT to peers outside --relay-allow, and to domains outside --relay-domains', async () => {
    const upstream = await startScriptedUpstream();
    const denied = await startCli([
      '--relay',
      `127.0.0.1:${upstream.port}`,
      '--relay-allow',
      '10.0.0.0/8',
      '127.0.0.1:0',
    ]);
    const domains = await startCli([
      '--relay',
      `127.0.0.1:${upstream.port}`,
      '--relay-domains',
      'example.test',
      '127.0.0.1:0',
    ]);
    try {
      const d = await send(denied.port, 's@example.test', ['a@example.test']);
      assert.deepEqual(
        d.rcpt.map((r) => r.code),
        [550],
      );
      assert.match(d.rcpt[0]!.lines[0]!, /relay access denied/);
      const m = await send(domains.port, 's@example.test', ['a@example.test', 'b@elsewhere.test']);
      assert.deepEqual(
        m.rcpt.map((r) => r.code),
        [250, 550],
      );
      assert.equal(m.data?.code, 250);
      assert.deepEqual(
        upstream.messages.map((x) => x.rcptTo),
        [['a@example.test']],
      );
    } finally {
      await denied.stop();
      await domains.stop();
      await upstream.close();
    }
  });
});

describe('PureProxy with --strict', () => {
  it('refuses a message the lint rejects before relaying it', async () => {
    const upstream = await startScriptedUpstream();
    const proxy = await startCli(['--relay', `127.0.0.1:${upstream.port}`, '--strict', '127.0.0.1:0']);
    try {
      // WIRE has no Date header: an error for the lint.
      const sent = await send(proxy.port, 's@example.test', ['a@example.test']);
      assert.equal(sent.data?.code, 550);
      assert.match(sent.data!.lines[0]!, /--strict/);
      assert.deepEqual(upstream.messages, []);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});
