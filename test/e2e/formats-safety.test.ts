/**
 * Mail is untrusted input and disks fill up. Through the real CLI: escape
 * sequences in headers, body and envelope never reach stdout raw, in any
 * human format, coloured or not; a message mailparser cannot parse is shown
 * raw and accepted; an output that cannot be written answers 451; bad flags
 * and unusable paths stop the start with one line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { JsonRecord } from '../../src/printers/json.js';
import { END_MESSAGE } from '../../src/printers/raw.js';
import { NODE_ARGS, ROOT, startCli, type RunningCli } from '../helpers/cli.js';
import { deliver } from '../helpers/fixtures.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

/** ESC, BEL, CSI and DEL as sent: SGR, screen clear, OSC title and clipboard (52), DCS, and C1 CSI. */
const EVIL = '\x1b[31mred\x1b[0m \x1b[2J \x1b]0;owned\x07 \x1b]52;c;cGF5bG9hZA==\x07 \x1bP+q\x1b\\ \u009b31m \x7f';

const EVIL_MESSAGE = [
  `Subject: ${EVIL}`,
  `From: "${EVIL}" <evil@example.com>`,
  `X-Evil: ${EVIL}`,
  '',
  `body ${EVIL}`,
  '',
].join('\r\n');

/** Anything a terminal could act on: C0 but tab and newline, DEL, C1. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Our own colour: SGR sequences only. */
const SGR = /\x1b\[[0-9;]*m/g;

/** A recipient with ESC and C1 in a quoted local part, which SMTPUTF8 lets through. */
const EVIL_RCPT = '"\x1b]0;owned\x07\u009b"@example.com';

/**
 * Sends EVIL_MESSAGE with escape sequences in the HELO, the sender and a
 * recipient as well; where the channel refuses one, a plainer one follows.
 */
async function sendEvil(port: number): Promise<number> {
  const c = await SmtpClient.connect(port);
  try {
    await c.read();
    await c.command(`EHLO evil${EVIL.replace(/ /g, '_')}`);
    for (const from of ['"\x1b[2J"@example.com', '\u009bx@example.com', 'evil@example.com']) {
      if ((await c.command(`MAIL FROM:<${from}> SMTPUTF8`)).code === 250) break;
    }
    await c.command(`RCPT TO:<${EVIL_RCPT}>`);
    await c.command('RCPT TO:<victim@example.com>');
    await c.command('DATA');
    c.write(`${EVIL_MESSAGE}.\r\n`);
    return (await c.read()).code;
  } finally {
    c.close();
  }
}

describe('escape sequences from mail never reach stdout', () => {
  const formats = ['raw', 'headers', 'parsed'] as const;
  const plain = new Map<string, RunningCli>();
  const colored = new Map<string, RunningCli>();

  before(async () => {
    await Promise.all(
      formats.flatMap((f) => [
        startCli(['-u', '-f', f, '--no-color', '127.0.0.1:0']).then((cli) => plain.set(f, cli)),
        startCli(['-u', '-f', f, '--color', '127.0.0.1:0']).then((cli) => colored.set(f, cli)),
      ]),
    );
    for (const cli of [...plain.values(), ...colored.values()]) {
      assert.equal(await sendEvil(cli.port), 250);
      await cli.waitForStdout(`${END_MESSAGE}`);
    }
  });

  after(async () => {
    await Promise.all([...plain.values(), ...colored.values()].map((cli) => cli.stop()));
  });

  for (const format of formats) {
    it(`shows them as visible text in ${format}, without colour`, () => {
      const out = plain.get(format)!.stdout();
      assert.doesNotMatch(out, RAW_CONTROL);
      assert.ok(out.includes('\\x1b[31mred\\x1b[0m \\x1b[2J \\x1b]0;owned\\x07 \\x1b]52;c;cGF5bG9hZA==\\x07'), out);
      assert.ok(out.includes('\\x9b31m \\x7f'), out);
      if (format === 'parsed')
        assert.ok(out.includes('\nBcc: "\\x1b]0;owned\\x07\\x9b"@example.com, victim@example.com\n'), out);
    });

    it(`adds only its own SGR colour sequences in ${format} with --color`, () => {
      const out = colored.get(format)!.stdout();
      assert.match(out, SGR, 'coloured');
      assert.equal(out.replace(SGR, ''), plain.get(format)!.stdout());
    });
  }

  it('escapes them in JSON, which holds no raw control character at all', async () => {
    const cli = await startCli(['-u', '-f', 'json', '127.0.0.1:0']);
    try {
      assert.equal(await sendEvil(cli.port), 250);
      await cli.waitForStdout('\n');
      const line = cli.stdout().trimEnd();
      assert.doesNotMatch(line, RAW_CONTROL);
      const r = JSON.parse(line) as JsonRecord;
      assert.ok(r.helo.includes('\x1b]0;owned\x07'), 'the HELO is kept, escaped only in the JSON text');
      assert.equal(r.subject, EVIL);
      assert.ok(r.rcptTo.includes(EVIL_RCPT));
    } finally {
      await cli.stop();
    }
  });
});

describe('a message mailparser cannot parse', () => {
  const tmp = tempDir('huge');
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['-f', 'parsed', '-o', '-', '-o', `json:${tmp.join('log.jsonl')}`, '127.0.0.1:0']);
  });
  after(async () => {
    await cli?.stop();
  });

  it('is accepted, shown raw with a one-line warning, and kept whole in JSON; the next one parses', async () => {
    const huge = `Subject: huge\r\nX-Huge: ${'h'.repeat(10 << 20)}\r\n\r\nthe body after a 10 MiB header\r\n`;
    assert.equal(await deliver(cli.port, { from: 'a@example.com', to: ['b@example.com'] }, huge), 250);
    await cli.waitForStdout(`the body after a 10 MiB header\n${END_MESSAGE}\n`, 20_000);
    assert.match(cli.stdout(), /^---------- MESSAGE FOLLOWS ----------\nSubject: huge\nX-Huge: h{100}/);
    const warnings = cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('warning'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^smtpd-ts: warning: message \S+ could not be parsed \(.+\); shown raw$/);
    const [line] = (await readFile(tmp.join('log.jsonl'), 'utf8')).split('\n');
    const r = JSON.parse(line!) as JsonRecord;
    assert.ok(r.parseError);
    assert.equal(r.subject, null);
    assert.equal(Buffer.from(r.raw!, 'base64').toString(), huge);

    assert.equal(
      await deliver(
        cli.port,
        { from: 'a@example.com', to: ['b@example.com'] },
        'Subject: =?utf-8?q?n=C3=A4chste?=\r\n\r\nok\r\n',
      ),
      250,
    );
    await cli.waitForStdout('Subject: nächste\n');
  });
});

describe('an output that cannot be written', { skip: !existsSync('/dev/full') && 'no /dev/full here to fill' }, () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['-o', 'raw:-', '-o', 'json:/dev/full', '127.0.0.1:0']);
  });
  after(async () => {
    await cli?.stop();
  });

  it('answers 451 for each message, says why in one line on stderr, and keeps serving', async () => {
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      for (let n = 0; n < 2; n++) {
        assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 250);
        assert.equal((await c.command('RCPT TO:<b@example.com>')).code, 250);
        assert.equal((await c.command('DATA')).code, 354);
        c.write('Subject: full\r\n\r\nbody\r\n.\r\n');
        assert.equal((await c.read()).code, 451);
      }
      assert.equal((await c.command('QUIT')).code, 221);
    } finally {
      c.close();
    }
    const lines = cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('451'));
    assert.equal(lines.length, 2);
    for (const l of lines)
      assert.match(
        l,
        /^smtpd-ts: message \S+ answered 451: cannot write to \/dev\/full: no space left on device \(ENOSPC\)$/,
      );
    assert.doesNotMatch(cli.stderr(), /\n\s+at /, 'no stack trace');
  });
});

describe('bad output flags', () => {
  const tmp = tempDir('flags');
  /** Runs the CLI to its exit (a start that fails) on `address`. */
  const cliOn = (address: string, ...args: string[]) =>
    run(process.execPath, [...NODE_ARGS, ...args, address], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
  const cli = (...args: string[]) => cliOn('127.0.0.1:0', ...args);

  it('exit 2 with one line for an unknown format, an empty output and two outputs to one place', async () => {
    const cases: [string[], RegExp][] = [
      [['-f', 'xml'], /^smtpd-ts: unknown format 'xml' \(available: raw, headers, parsed, json\)\n$/],
      [['-o', 'json:'], /^smtpd-ts: bad --output 'json:'/],
      [['-o', '-', '-o', 'json:-'], /^smtpd-ts: two outputs write to stdout\n$/],
      [['--save-dir', ''], /^smtpd-ts: --save-dir needs a path\n$/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, cases[i]![0].join(' '));
      assert.match(r.stderr, cases[i]![1]);
    });
  });

  it('exit 1 with one line when an output or the Maildir cannot be opened', async () => {
    const file = await cli('-o', 'json:/nonexistent-dir/x.jsonl');
    assert.equal(file.code, 1);
    assert.equal(
      file.stderr,
      'smtpd-ts: cannot open output /nonexistent-dir/x.jsonl: no such file or directory (ENOENT)\n',
    );
    const maildir = await cli('--save-dir', '/dev/null/Maildir');
    assert.equal(maildir.code, 1);
    assert.match(maildir.stderr, /^smtpd-ts: cannot create Maildir \/dev\/null\/Maildir: .+\n$/);
  });

  it(
    'exit 1 when the Maildir is not writable after dropping privileges to nobody',
    {
      skip: process.getuid?.() !== 0 && 'only root drops privileges',
    },
    async () => {
      // Created by root with mode 0700: nobody cannot deliver into it. Port 80 makes smtpd-ts drop privileges.
      // Its folder (a temporary one, 0700) keeps nobody out even of a Maildir given to nobody.
      const r = await cliOn('127.0.0.1:80', '--save-dir', tmp.join('Maildir'));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /smtpd-ts: cannot write to Maildir .+: permission denied as nobody; give nobody write access, or use -n to stay root or --user NAME\n$/,
      );
      await assert.rejects(stat(tmp.join('Maildir')), 'the Maildir it created is removed again');
    },
  );

  it(
    'gives a Maildir it creates as root to the user it drops to, who can then deliver',
    { skip: process.getuid?.() !== 0 && 'only root drops privileges' },
    async () => {
      const open = tmp.join('open');
      await mkdir(open, { mode: 0o755 });
      await chmod(tmp.path, 0o755);
      const dir = path.join(open, 'Maildir');
      const r = await cliOn('127.0.0.1:0', '--user', 'nobody', '--save-dir', dir, '--timeout', '0.5');
      assert.equal(r.code, 3, r.stderr);
      const owner = (await stat(path.join(dir, 'new'))).uid;
      assert.notEqual(owner, 0);
    },
  );
});
