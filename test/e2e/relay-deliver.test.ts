/**
 * `--deliver` (smtpd's MailmanProxy role) end to end, through the real CLI:
 * the command's exit status is the reply, a hanging command is killed, and
 * recipients that match no pattern are relayed (or, with no upstream, printed).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const MESSAGE = Buffer.from('Subject: list post\r\n\r\nh\xc3\xa9llo\r\n..dot\r\n', 'latin1');
const UNSTUFFED = Buffer.from('Subject: list post\r\n\r\nh\xc3\xa9llo\r\n.dot\r\n', 'latin1');

/** Sends MESSAGE to `to` and returns the reply after the data. */
async function send(port: number, to: string[]): Promise<SmtpReply> {
  const c = await SmtpClient.connect(port);
  try {
    await c.read();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<poster@example.test>');
    for (const r of to) assert.equal((await c.command(`RCPT TO:<${r}>`)).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    c.write(MESSAGE);
    c.write('.\r\n');
    return await c.read(20_000);
  } finally {
    c.close();
  }
}

describe('--deliver through the CLI', () => {
  const tmp = tempDir('relay-deliver');
  let sink: RunningCli;
  before(async () => {
    sink = await startCli([
      '-f',
      'json',
      '--deliver',
      `*@ok.test=cat > '${tmp.path}'/"$LOCAL".eml; echo "$SENDER $RECIPIENT $CLIENT_ADDRESS" > '${tmp.path}'/"$LOCAL".env`,
      '--deliver',
      '*@busy.test=exit 75',
      '--deliver',
      '/^.*@bad\\.test$/=echo no such list >&2; exit 1',
      '--deliver',
      '*@hang.test=sleep 60',
      '--deliver-timeout',
      '0.5',
      '127.0.0.1:0',
    ]);
  });
  after(() => sink?.stop());

  it('pipes the message to the command and answers 250 on exit 0', async () => {
    assert.equal((await send(sink.port, ['dev@ok.test'])).code, 250);
    assert.deepEqual(await readFile(tmp.join('dev.eml')), UNSTUFFED);
    assert.equal(await readFile(tmp.join('dev.env'), 'utf8'), 'poster@example.test dev@ok.test 127.0.0.1\n');
  });

  it('answers 451 on exit 75 (EX_TEMPFAIL)', async () => {
    assert.equal((await send(sink.port, ['dev@busy.test'])).code, 451);
  });

  it("answers 550 on exit 1, with the command's stderr logged", async () => {
    assert.equal((await send(sink.port, ['dev@bad.test'])).code, 550);
    assert.match(sink.stderr(), /--deliver dev@bad\.test to 'echo no such list >&2; exit 1' exited 1: "no such list"/);
  });

  it('kills a command that hangs past --deliver-timeout and answers 451', async () => {
    const started = Date.now();
    assert.equal((await send(sink.port, ['dev@hang.test'])).code, 451);
    assert.ok(Date.now() - started < 10_000);
    assert.match(sink.stderr(), /--deliver dev@hang\.test to 'sleep 60' timed out after 500 ms, killed/);
  });

  it('prints recipients that match no pattern, with the routed ones in the JSON record', async () => {
    assert.equal((await send(sink.port, ['ops@ok.test', 'someone@else.test'])).code, 250);
    const records = sink
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { rcptTo: string[]; relay: unknown });
    const last = records.at(-1)!;
    assert.deepEqual(last.rcptTo, ['ops@ok.test', 'someone@else.test']);
    assert.deepEqual(last.relay, { upstream: null, accepted: ['ops@ok.test'], refused: [] });
  });
});

describe('--deliver with an upstream', () => {
  const tmp = tempDir('relay-deliver-up');
  let upstream: ScriptedUpstream;
  let proxy: RunningCli;
  before(async () => {
    upstream = await startScriptedUpstream();
    proxy = await startCli([
      '--relay',
      `127.0.0.1:${upstream.port}`,
      '--deliver',
      `*@lists.test=cat > '${tmp.path}/list.eml'`,
      '127.0.0.1:0',
    ]);
  });
  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('pipes the matching recipients and relays the rest', async () => {
    assert.equal((await send(proxy.port, ['dev@lists.test', 'person@example.test'])).code, 250);
    assert.deepEqual(await readFile(tmp.join('list.eml')), UNSTUFFED);
    assert.deepEqual(
      upstream.messages.map((m) => m.rcptTo),
      [['person@example.test']],
    );
  });
});
