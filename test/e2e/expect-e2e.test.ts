/**
 * --expect and --expect-count through the real CLI: the exit code of each
 * outcome (0 held, 4 failed, 3 timeout before --exit-after, 2 bad
 * expression), after --exit-after, --timeout and SIGTERM, and the summary on
 * stderr naming what failed and the nearest messages.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { deliver } from '../helpers/fixtures.js';
import { exitCode } from '../helpers/process.js';

const WELCOME = {
  envelope: { from: 'app@example.test', to: ['user@example.test'] },
  data: 'From: app@example.test\r\nTo: user@example.test\r\nSubject: Welcome\r\n\r\nHello!\r\n',
};
const RECEIPT = {
  envelope: { from: 'app@example.test', to: ['buyer@shop.test'] },
  data: 'From: app@example.test\r\nTo: buyer@shop.test\r\nSubject: Receipt\r\n\r\nThanks.\r\n',
};

describe('expectations at exit', () => {
  it('exits 0 after --exit-after when every expectation held, with a summary on stderr', async () => {
    const cli = await startCli([
      '--exit-after',
      '2',
      '--expect-count',
      '2',
      '--expect',
      'subject=Welcome',
      '--expect',
      'rcptTo~@shop.test && subject~receipt',
      '127.0.0.1:0',
    ]);
    assert.equal(await deliver(cli.port, WELCOME.envelope, WELCOME.data), 250);
    assert.equal(await deliver(cli.port, RECEIPT.envelope, RECEIPT.data), 250);
    assert.equal(await exitCode(cli.child), 0);
    assert.match(
      cli.stderr(),
      /smtpd-ts: expectations: all 3 held \(2 messages accepted\)\n {2}ok {5}--expect-count 2: 2 messages accepted\n/,
    );
  });

  it('exits 4 when an expectation failed, naming it and showing the nearest messages', async () => {
    const cli = await startCli([
      '-f',
      'json',
      '--exit-after',
      '2',
      '--expect',
      'subject=Welcome',
      '--expect',
      'subject=Password reset && rcptTo~@example.test',
      '127.0.0.1:0',
    ]);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    await deliver(cli.port, RECEIPT.envelope, RECEIPT.data);
    assert.equal(await exitCode(cli.child), 4);
    const err = cli.stderr();
    assert.match(err, /smtpd-ts: expectations: 1 of 2 failed \(2 messages accepted\)/);
    assert.match(err, / {2}ok {5}--expect 'subject=Welcome': 1 message matched/);
    assert.match(
      err,
      / {2}FAILED --expect 'subject=Password reset && rcptTo~@example\.test': none of 2 messages matched; nearest:\n {11}\d+\.1 from <app@example\.test> to <user@example\.test>: subject="Welcome", rcptTo=\["user@example\.test"\]\n {11}\d+\.2 /,
    );
    assert.equal(cli.stdout().trimEnd().split('\n').length, 2, 'stdout holds only the JSON lines');
  });

  it('exits 4 when --expect-count is not met on SIGTERM', async () => {
    const cli = await startCli(['--expect-count', '2..3', '127.0.0.1:0']);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    assert.deepEqual(await cli.stop('SIGTERM'), { code: 4, signal: null });
    assert.match(cli.stderr(), /FAILED --expect-count 2\.\.3: 1 message accepted/);
  });

  it('exits 0 on SIGTERM when the expectations held', async () => {
    const cli = await startCli(['--expect', 'every: from.address=app@example.test', '127.0.0.1:0']);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('judges at --timeout when there is no --exit-after: 0 for "no mail was sent"', async () => {
    const cli = await startCli(['--timeout', '0.3', '--expect-count', '0', '127.0.0.1:0']);
    assert.equal(await exitCode(cli.child), 0);
    assert.match(cli.stderr(), /all 1 held \(0 messages accepted\)/);
  });

  it('exits 4 at --timeout when a none: expectation was broken', async () => {
    const cli = await startCli(['--timeout', '1', '--expect', 'none: lint.code=missing-date', '127.0.0.1:0']);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    assert.equal(await exitCode(cli.child), 4);
    assert.match(
      cli.stderr(),
      /FAILED --expect 'none: lint\.code=missing-date': 1 message matched, e\.g\.:\n {11}\d+\.1 /,
    );
  });

  it('keeps exit 3 when --timeout passes before --exit-after, and still prints the summary', async () => {
    const cli = await startCli(['--exit-after', '2', '--timeout', '1', '--expect', 'subject=Welcome', '127.0.0.1:0']);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    assert.equal(await exitCode(cli.child), 3);
    assert.match(cli.stderr(), /timeout: 1 s passed; 1 of 2 messages arrived\n/);
    assert.match(cli.stderr(), /expectations: all 1 held/);
  });

  it('parses messages for the expectations whatever the output format', async () => {
    const cli = await startCli(['-f', 'headers', '--exit-after', '1', '--expect', 'text~hello', '127.0.0.1:0']);
    await deliver(cli.port, WELCOME.envelope, WELCOME.data);
    assert.equal(await exitCode(cli.child), 0);
  });

  for (const [args, message] of [
    [
      ['--expect', 'subjct=Welcome'],
      /^smtpd-ts: bad --expect 'subjct=Welcome': unknown field 'subjct' \(fields: .*\)\n$/,
    ],
    [
      ['--expect', 'subject Welcome'],
      /^smtpd-ts: bad --expect 'subject Welcome': expected an operator .* after 'subject', found 'Welcome'\n$/,
    ],
    [
      ['--expect', 'attachments>=x'],
      /^smtpd-ts: bad --expect 'attachments>=x': 'attachments>=' needs a number, not 'x'\n$/,
    ],
    [['--expect-count', '5..2'], /^smtpd-ts: bad --expect-count '5\.\.2': expected N, MIN\.\.MAX/],
  ] as [string[], RegExp][]) {
    it(`exits 2 with one line for ${args.join(' ')}`, async () => {
      const child = spawn(process.execPath, [...NODE_ARGS, ...args, '127.0.0.1:0'], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      assert.equal(await exitCode(child), 2);
      assert.match(err, message);
    });
  }
});
