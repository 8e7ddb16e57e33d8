/**
 * `smtpd-ts wait` through the real CLI: waiting for another smtpd-ts's
 * ready file and for N lines in its JSON-lines output, the timeout (exit 3,
 * saying how far it got), usage errors (exit 2), and the root command's
 * positional address still parsing beside the subcommand.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { inboxUrl, NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { deliver } from '../helpers/fixtures.js';
import { exitCode } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const ENVELOPE = { from: 'app@example.test', to: ['user@example.test'] };
const DATA = 'From: app@example.test\r\nSubject: Welcome\r\n\r\nHello!\r\n';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `smtpd-ts ARGS` to its end (bounded: killed after `ms`). */
function run(args: readonly string[], ms = 15_000): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = exitCode(child, ms).then((code) => ({ code, stdout, stderr }));
  return { child, done };
}

describe('smtpd-ts wait', () => {
  const dir = tempDir('wait');

  it('waits for a sink started after it, then prints the address from its ready file', async () => {
    const ready = dir.join('ready-1');
    const waiting = run(['wait', '--ready-file', ready, '--timeout', '10']);
    const cli = await startCli(['--ready-file', ready, '127.0.0.1:0']);
    try {
      const result = await waiting.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `127.0.0.1:${cli.port}\n`);
    } finally {
      await cli.stop();
    }
  });

  it('waits until the JSON-lines file holds --count messages', async () => {
    const jsonl = dir.join('mail-2.jsonl');
    const cli = await startCli(['-f', 'json', '-o', jsonl, '127.0.0.1:0']);
    try {
      const waiting = run(['wait', '--jsonl', jsonl, '--count', '2', '--timeout', '10']);
      assert.equal(await deliver(cli.port, ENVELOPE, DATA), 250);
      assert.equal(waiting.child.exitCode, null, 'still waiting after one message');
      assert.equal(await deliver(cli.port, ENVELOPE, DATA), 250);
      const result = await waiting.done;
      assert.deepEqual([result.code, result.stdout, result.stderr], [0, '', '']);
    } finally {
      await cli.stop();
    }
  });

  it('exits 3 on --timeout, saying how many of the messages arrived', async () => {
    const jsonl = dir.join('mail-3.jsonl');
    const cli = await startCli(['-f', 'json', '-o', jsonl, '127.0.0.1:0']);
    try {
      assert.equal(await deliver(cli.port, ENVELOPE, DATA), 250);
      const result = await run(['wait', '--jsonl', jsonl, '--count', '2', '--timeout', '0.5']).done;
      assert.equal(result.code, 3);
      assert.equal(result.stderr, `smtpd-ts wait: timeout: 0.5 s passed; 1 of 2 messages arrived in ${jsonl}\n`);
    } finally {
      await cli.stop();
    }
  });

  it('waits for a message a search matches in the inbox, prints it, and exits 3 when none comes in time', async () => {
    const cli = await startCli(['--http', '127.0.0.1:0', '127.0.0.1:0']);
    try {
      const url = inboxUrl(cli);
      const waiting = run(['wait', '--http', url, '--query', 'subject:Welcome', '--timeout', '10']);
      assert.equal(await deliver(cli.port, ENVELOPE, 'Subject: Welcome\r\n\r\nhello\r\n'), 250);
      const result = await waiting.done;
      assert.equal(result.code, 0, result.stderr);
      const printed = JSON.parse(result.stdout) as { ID: string; Subject: string };
      assert.equal(printed.Subject, 'Welcome');
      // --after: the next one only; none comes, so the wait ends with 3.
      const none = await run([
        'wait',
        '--http',
        url,
        '--query',
        'subject:Welcome',
        '--after',
        printed.ID,
        '--timeout',
        '0.5',
      ]).done;
      assert.equal(none.code, 3);
      assert.equal(none.stderr, `smtpd-ts wait: timeout: 0.5 s passed; no message in ${url} matches subject:Welcome\n`);
    } finally {
      await cli.stop();
    }
  });

  it('exits 3 on --timeout when the ready file is never written', async () => {
    const result = await run(['wait', '--ready-file', dir.join('never'), '--timeout', '0.3']).done;
    assert.equal(result.code, 3);
    assert.match(
      result.stderr,
      /^smtpd-ts wait: timeout: 0\.3 s passed; .*never was not written \(is the sink running\?\)\n$/,
    );
  });

  for (const [args, message] of [
    [['wait'], /^smtpd-ts wait: wait needs --ready-file PATH, --jsonl FILE, --http URL --query Q, or several\n$/],
    [['wait', '--http', 'http://127.0.0.1:1'], /--http URL and --query Q go together/],
    [['wait', '--http', 'localhost:8025', '--query', 'x'], /--http takes the inbox's base URL/],
    [['wait', '--ready-file', 'r', '--count', '2'], /--count counts the sink's JSON lines: give --jsonl FILE/],
    [['wait', '--jsonl', 'f', '--count', '0'], /--count needs a whole number from 1, not '0'/],
    [
      ['wait', '--jsonl', 'f', '--timeout', 'soon'],
      /--timeout needs a number of seconds above 0 \(or 90s, 5m, 1h\), not 'soon'/,
    ],
    [['wait', '--ready-file', 'r', '127.0.0.1:0'], /too many arguments.*\(see smtpd-ts wait --help\)/],
  ] as [string[], RegExp][]) {
    it(`exits 2 with one line for ${args.join(' ')}`, async () => {
      const result = await run(args).done;
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, 'one line');
    });
  }

  it('has its own --help, and the root --help names it', async () => {
    const own = await run(['wait', '--help']).done;
    assert.equal(own.code, 0);
    assert.match(own.stdout, /Usage: smtpd-ts wait \[options\]/);
    const root = await run(['--help']).done;
    assert.match(root.stdout, /Usage: smtpd-ts \[options\] \[localhost:port \[remotehost:port\]\]/);
    assert.match(root.stdout, /\n {2}wait \[options\] +wait for a sink started elsewhere/);
  });

  it('leaves the root command parsing its options and address as before', async () => {
    for (const args of [['127.0.0.1:0'], ['-f', 'json', '127.0.0.1:0'], ['127.0.0.1:0', '-f', 'json']]) {
      const cli = await startCli(args);
      try {
        assert.equal(await deliver(cli.port, ENVELOPE, DATA), 250);
        if (args.includes('json')) await cli.waitForStdout('"subject":"Welcome"');
        else await cli.waitForStdout('Subject: Welcome');
      } finally {
        assert.equal((await cli.stop()).code, 0);
      }
    }
    // A host named like the subcommand is still an address (one that cannot be listened on).
    const host = await run(['wait:0']).done;
    assert.equal(host.code, 1);
    assert.match(host.stderr, /^smtpd-ts: cannot listen on wait:0: /);
  });
});
