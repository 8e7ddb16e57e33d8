/**
 * Scripted replies, faults and transcripts through the real CLI
 * with real clients: each rule kind, the seeded randomness, `--rules FILE`,
 * the rules recorded in JSON, and a transcript with AUTH masked.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/cli.js';
import { JSON_SCHEMA, SESSION_JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { validate } from '../helpers/json-schema.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

/** One message on an open client (after EHLO); returns the codes of MAIL, each RCPT, DATA and the final reply. */
async function send(c: SmtpClient, from: string, to: string[], subject: string): Promise<number[]> {
  const codes = [(await c.command(`MAIL FROM:<${from}>`)).code];
  for (const rcpt of to) codes.push((await c.command(`RCPT TO:<${rcpt}>`)).code);
  const data = await c.command('DATA');
  codes.push(data.code);
  if (data.code !== 354) return codes;
  c.write(`Subject: ${subject}\r\nFrom: <${from}>\r\n\r\nbody\r\n.\r\n`);
  codes.push((await c.read()).code);
  return codes;
}

async function session(port: number): Promise<SmtpClient> {
  const c = await SmtpClient.connect(port);
  assert.equal((await c.read()).code, 220);
  assert.equal((await c.command('EHLO client.test')).code, 250);
  return c;
}

const jsonLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Sends eight messages on one connection and returns their final codes. */
async function eightMessages(port: number): Promise<number[]> {
  const c = await session(port);
  const codes: number[] = [];
  for (let i = 0; i < 8; i++) codes.push((await send(c, 'a@x.test', ['b@x.test'], `rand ${i}`)).at(-1)!);
  await c.command('QUIT');
  c.close();
  return codes;
}

const RANDOM_RULE = 'EOD~^subject: rand?50%=451 4.3.0 Random fault';

describe('scripted replies and transcripts through the CLI', () => {
  let cli: RunningCli;
  let replay: RunningCli;

  before(async () => {
    [cli, replay] = await Promise.all([
      startCli([
        '127.0.0.1:0',
        '-f',
        'json',
        '--transcript',
        '--seed',
        '99',
        '--reply',
        'RCPT~bounce@=550 5.1.1 No such user',
        '--reply',
        'MAIL~second@#2=421 4.7.0 Bye!close',
        '--reply',
        'EOD~^subject: third#3=451 4.3.0 Try again later',
        '--reply',
        'RCPT~slow@=delay:300ms',
        '--reply',
        RANDOM_RULE,
      ]),
      startCli(['127.0.0.1:0', '-f', 'json', '--seed', '99', '--reply', RANDOM_RULE]),
    ]);
  });
  after(async () => {
    await Promise.all([cli?.stop(), replay?.stop()]);
  });

  it('refuses a recipient matching a pattern, and records the rule in the message JSON', async () => {
    const c = await session(cli.port);
    const rcpt = await c.command('RCPT TO:<x@y>');
    assert.equal(rcpt.code, 503, 'no rule fires before MAIL: the normal reply');
    assert.equal((await c.command('MAIL FROM:<match@x.test>')).code, 250);
    const bounce = await c.command('RCPT TO:<bounce@x.test>');
    assert.deepEqual([bounce.code, bounce.lines], [550, ['5.1.1 No such user']]);
    assert.equal((await c.command('RCPT TO:<ok@x.test>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: match\r\n\r\nbody\r\n.\r\n');
    assert.equal((await c.read()).code, 250);
    await c.command('QUIT');
    c.close();
    await cli.waitForStdout('"mailFrom":"match@x.test"');
    const message = jsonLines(cli.stdout()).find((l) => l['mailFrom'] === 'match@x.test')!;
    assert.equal(message['type'], 'message');
    assert.deepEqual(message['rcptTo'], ['ok@x.test']);
    assert.deepEqual(message['rules'], ['RCPT~bounce@=550 5.1.1 No such user']);
    assert.deepEqual(validate(JSON_SCHEMA, message), []);
  });

  it('answers the third matching message with 451, and only the third', async () => {
    const c = await session(cli.port);
    const finals = [];
    for (let i = 0; i < 4; i++) finals.push((await send(c, 'third@x.test', ['b@x.test'], 'third')).at(-1));
    assert.deepEqual(finals, [250, 250, 451, 250]);
    c.close();
  });

  it('answers the second matching MAIL with 421 and closes the connection', async () => {
    const c = await session(cli.port);
    assert.equal((await c.command('MAIL FROM:<second@x.test>')).code, 250);
    assert.equal((await c.command('RSET')).code, 250);
    const second = await c.command('MAIL FROM:<second@x.test>');
    assert.deepEqual([second.code, second.lines], [421, ['4.7.0 Bye']]);
    await c.waitClosed();
  });

  it('delays the reply to a matching command', async () => {
    const c = await session(cli.port);
    assert.equal((await c.command('MAIL FROM:<a@x.test>')).code, 250);
    const start = performance.now();
    assert.equal((await c.command('RCPT TO:<slow@x.test>')).code, 250);
    assert.ok(performance.now() - start >= 280, 'the 250 came after the delay');
    c.close();
  });

  it('replays random faults from the same seed in another run', async () => {
    const [a, b] = await Promise.all([eightMessages(cli.port), eightMessages(replay.port)]);
    assert.deepEqual(a, b);
    assert.ok(a.includes(451) && a.includes(250), `a mix of faults and successes: ${a.join(' ')}`);
  });

  it('records each session as a JSON line with its dialogue, AUTH secrets hidden', async () => {
    const c = await session(cli.port);
    const secret = Buffer.from('\0alice\0s3cret-pw').toString('base64');
    assert.equal((await c.command(`AUTH PLAIN ${secret}`)).code, 235);
    await send(c, 'auth@x.test', ['b@x.test'], 'authed');
    assert.equal((await c.command('QUIT')).code, 221);
    await c.waitClosed();
    const isMine = (l: Record<string, unknown>) => l['type'] === 'session' && JSON.stringify(l).includes('auth@x.test');
    await cli.waitForStdout((out) => jsonLines(out).some(isMine));
    const out = cli.stdout();
    assert.ok(!out.includes(secret) && !out.includes('s3cret-pw'), 'the secret is nowhere in the output');
    const s = jsonLines(out).find(isMine)!;
    assert.equal(s['end'], 'quit');
    assert.deepEqual(validate(SESSION_JSON_SCHEMA, s), []);
    const message = jsonLines(out).find((l) => l['type'] === 'message' && l['mailFrom'] === 'auth@x.test')!;
    assert.deepEqual(s['messages'], [message['id']]);
    const dialogue = s['dialogue'] as { dir: string; text: string }[];
    const auth = dialogue.find((l) => l.text.startsWith('AUTH'))!;
    assert.deepEqual([auth.dir, auth.text], ['client', 'AUTH PLAIN [initial response hidden]']);
    assert.ok(dialogue.some((l) => l.dir === 'server' && l.text.startsWith('235 ')));
    assert.ok(dialogue.some((l) => l.dir === 'client' && l.text === 'QUIT'));
  });
});

describe('faults through the CLI: a rules file, a drop mid-DATA, a connection rate, a human transcript', () => {
  const dir = tempDir('rules-file');
  let cli: RunningCli;

  before(async () => {
    await writeFile(dir.join('scenario.rules'), '# a flaky server\n\nCONNECT=delay:50ms\nDATA#1=drop\n');
    cli = await startCli([
      '127.0.0.1:0',
      '--transcript',
      '--no-color',
      '--rules',
      dir.join('scenario.rules'),
      '--connection-rate',
      '2/60',
    ]);
  });
  after(async () => {
    await cli?.stop();
  });

  it('drops the connection mid-DATA, prints the dialogue, and answers the third connection 421', async () => {
    const c = await session(cli.port);
    assert.equal((await c.command('MAIL FROM:<a@x.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<b@x.test>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: cut\r\n\r\npart of a body\r\n');
    await c.waitClosed();
    await assert.rejects(c.read(500), /closed/);
    await cli.waitForStdout('ENDED: drop');
    const out = cli.stdout();
    assert.match(out, /C: EHLO client\.test\n/);
    assert.match(out, /S: 354 End data/);
    assert.match(out, /\* {2}rule fired: DATA#1=drop\n/);
    assert.match(out, /SESSION \S+ ENDED: drop, rules: CONNECT=delay:50ms \| DATA#1=drop/);
    // The next message is printed after the dialogue that led to it.
    const second = await session(cli.port);
    assert.deepEqual(await send(second, 'a@x.test', ['b@x.test'], 'whole'), [250, 250, 354, 250]);
    await cli.waitForStdout('END MESSAGE');
    const printed = cli.stdout().slice(out.length);
    assert.match(
      printed,
      /^\S+ \* {2}connected\n[\s\S]*C: MAIL FROM:<a@x\.test>\n[\s\S]*S: 354 [^\n]*\n\S+ \* {2}message \S+: \d+ bytes\n-+ MESSAGE FOLLOWS -+\n/,
    );
    const third = await SmtpClient.connect(cli.port);
    const refused = await third.read();
    assert.equal(refused.code, 421);
    assert.match(refused.lines[0]!, /too many connections per second/);
    await third.waitClosed();
    second.close();
  });
});

describe('bad rules at start-up', () => {
  const dir = tempDir('rules-bad');
  const run = async (argv: string[]) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (s: Buffer) => (err += s.toString()));
    const code = await main(argv, { stdout, stderr });
    return { code, err };
  };

  it('exit 2 with one line pointing at the bad part of a --reply', async () => {
    const { code, err } = await run(['127.0.0.1:0', '--reply', 'RCPT~bounce@=250 OK']);
    assert.equal(code, 2);
    assert.equal(
      err,
      "smtpd-ts: --reply: bad rule 'RCPT~bounce@=250 OK': reply code 250 for RCPT: expected 4xx or 5xx\n",
    );
  });

  it('exit 2 naming the file and line of a bad rule in --rules', async () => {
    await writeFile(dir.join('bad.rules'), '# ok\nEOD#3=451 later\nEOD#three=451 later\n');
    const { code, err } = await run(['127.0.0.1:0', '--rules', dir.join('bad.rules')]);
    assert.equal(code, 2);
    assert.match(
      err,
      /^smtpd-ts: --rules: \S+bad\.rules line 3: bad rule 'EOD#three=451 later': bad occurrence '#three'.*\n$/,
    );
  });
});
