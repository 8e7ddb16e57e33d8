import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { deliverEnvironment, deliverToCommand } from '../../src/handlers/deliver.js';
import { parseDeliverRoute, routeFor } from '../../src/relay/routes.js';
import { makeMessage } from '../helpers/message.js';
import { tempDir } from '../helpers/temp-dir.js';

function logStream(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

const message = makeMessage(Buffer.from('Subject: s\r\n\r\n\xe9t\xe9\r\n..\r\n', 'latin1'), { mailFrom: '<>' });

describe('--deliver routes', () => {
  const tmp = tempDir('deliver');

  it('match globs case-insensitively over the whole address, and /regexps/ as written', () => {
    const glob = parseDeliverRoute('*@Lists.example.test=cat');
    assert.ok(glob.matches('dev@lists.EXAMPLE.test'));
    assert.ok(!glob.matches('dev@lists.example.test.evil'));
    const regex = parseDeliverRoute('/^(dev|ops)-.*@x\\.test$/=cat >/dev/null');
    assert.equal(regex.command, 'cat >/dev/null');
    assert.ok(regex.matches('ops-1@x.test') && !regex.matches('qa@x.test'));
    assert.equal(parseDeliverRoute('/a=b/=cmd').pattern, '/a=b/');
    assert.equal(routeFor('ops-1@x.test', [glob, regex]), regex);
    assert.throws(() => parseDeliverRoute('no-command'), /PATTERN=COMMAND/);
    assert.throws(() => parseDeliverRoute('*@x='), /empty/);
    assert.throws(() => parseDeliverRoute('/(/=cat'), /bad regular expression/);
  });

  it('give the command the envelope as Postfix does, SENDER empty for the null sender', () => {
    assert.deepEqual(deliverEnvironment(message, 'Dev@Lists.Test'), {
      SENDER: '',
      RECIPIENT: 'Dev@Lists.Test',
      LOCAL: 'Dev',
      DOMAIN: 'lists.test',
      CLIENT_ADDRESS: '127.0.0.1',
      CLIENT_HELO: 'client.test',
      QUEUE_ID: '1234.1',
      SIZE: String(message.data.length),
    });
  });

  it('pipe the message byte for byte and accept on exit 0', async () => {
    const out = tmp.join('out.eml');
    const route = parseDeliverRoute(`*=cat > '${out}'; printf '%s' "$RECIPIENT" > '${out}.rcpt'`);
    const log = logStream();
    assert.deepEqual(await deliverToCommand(route, message, 'a@lists.test', 5000, log.stream), { accepted: true });
    assert.deepEqual(await readFile(out), message.data);
    assert.equal(await readFile(`${out}.rcpt`, 'utf8'), 'a@lists.test');
    assert.equal(log.text(), '');
  });

  it("turn exit 75 into 451 and any other failure into 550, logging the command's stderr", async () => {
    const log = logStream();
    const deferred = await deliverToCommand(
      parseDeliverRoute('*=echo busy >&2; exit 75'),
      message,
      'a@x.test',
      5000,
      log.stream,
    );
    assert.deepEqual(deferred, {
      accepted: false,
      refusal: { address: 'a@x.test', code: 451, message: 'delivery command deferred (exit 75): *' },
    });
    const failed = await deliverToCommand(
      parseDeliverRoute('*=echo no such list >&2; exit 1'),
      message,
      'a@x.test',
      5000,
      log.stream,
    );
    assert.equal(failed.accepted ? 0 : failed.refusal.code, 550);
    assert.match(log.text(), /--deliver a@x\.test to 'echo busy >&2; exit 75' exited 75: "busy"\n/);
    assert.match(log.text(), /exited 1: "no such list"\n/);
  });

  it('accept a command that does not read its stdin', async () => {
    const big = makeMessage(Buffer.alloc(4 << 20, 0x61));
    assert.deepEqual(await deliverToCommand(parseDeliverRoute('*=true'), big, 'a@x.test', 5000, logStream().stream), {
      accepted: true,
    });
  });

  it('kill a hanging command and what it started after the timeout: 451', async () => {
    const log = logStream();
    const started = Date.now();
    const result = await deliverToCommand(
      parseDeliverRoute('*=sleep 30 & sleep 30'),
      message,
      'a@x.test',
      300,
      log.stream,
    );
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.accepted ? 0 : result.refusal.code, 451);
    assert.match(log.text(), /timed out after 300 ms, killed/);
  });

  it('run the command for a NUL in HELO or the recipient (written U+FFFD), and log the recipient escaped', async () => {
    const out = tmp.join('nul.env');
    const odd = makeMessage('Subject: s\n\nb\n', { helo: 'he\0lo' });
    const log = logStream();
    const result = await deliverToCommand(
      parseDeliverRoute(`*=printf '%s|%s' "$CLIENT_HELO" "$RECIPIENT" > '${out}'; echo oops >&2; exit 1`),
      odd,
      'a\0\x1b]0;t\x07@x.test',
      5000,
      log.stream,
    );
    assert.equal(result.accepted ? 0 : result.refusal.code, 550);
    assert.equal(await readFile(out, 'utf8'), 'he\ufffdlo|a\ufffd\x1b]0;t\x07@x.test');
    assert.match(log.text(), /--deliver a\\x00\\x1b\]0;t\\x07@x\.test to /);
    assert.doesNotMatch(log.text(), /[\x00\x07\x1b]/);
  });
});
