/**
 * The protocol lint through the real CLI and a real client: findings after
 * the message in every human format with --lint, in every JSON object (valid
 * against the shipped schema), and --strict's 550 naming the first error,
 * with the refused message written nowhere.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import type { JsonRecord } from '../../src/printers/json.js';
import { END_MESSAGE } from '../../src/printers/raw.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { deliver } from '../helpers/fixtures.js';
import { validate } from '../helpers/json-schema.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

/** No Date, no Message-ID, 8-bit body without BODY=8BITMIME or a charset, envelope sender not in From. */
const SLOPPY = 'From: App <app@example.test>\r\nTo: user@example.test\r\nSubject: Welcome\r\n\r\nHello caf\u00e9!\r\n';
const SLOPPY_ENVELOPE = { from: 'bounces@example.test', to: ['user@example.test'] };
const CLEAN =
  'From: app@example.test\r\nTo: user@example.test\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <clean@example.test>\r\nSubject: Clean\r\n\r\nHello\r\n';
const CLEAN_ENVELOPE = { from: 'app@example.test', to: ['user@example.test'] };

const FINDINGS = [
  '  error   8bit-without-8bitmime: 8-bit data (first in line 5) but MAIL FROM has no BODY=8BITMIME (RFC 6152 3)',
  '  error   missing-date: no Date header (RFC 5322 3.6: required)',
  '  warning missing-message-id: no Message-ID header (RFC 5322 3.6.4: should be present)',
  '  warning undeclared-charset: 8-bit text/plain in the body without a charset parameter (RFC 2045 5.2: read as us-ascii)',
  "  note    envelope-from-mismatch: envelope sender 'bounces@example.test' is not in the From header ('app@example.test')",
];

describe('lint findings in every format', () => {
  const dir = tempDir('lint-e2e');
  let cli: RunningCli;

  before(async () => {
    cli = await startCli([
      '--lint',
      '-o',
      `raw:${dir.join('raw.txt')}`,
      '-o',
      `headers:${dir.join('headers.txt')}`,
      '-o',
      `parsed:${dir.join('parsed.txt')}`,
      '-o',
      `json:${dir.join('mail.jsonl')}`,
      '127.0.0.1:0',
    ]);
    assert.equal(await deliver(cli.port, SLOPPY_ENVELOPE, SLOPPY), 250);
    assert.equal(await deliver(cli.port, CLEAN_ENVELOPE, CLEAN), 250);
    assert.deepEqual(await cli.stop(), { code: 0, signal: null });
  });

  after(() => cli?.stop());

  for (const format of ['raw', 'headers', 'parsed']) {
    it(`shows a findings block after the message in ${format}, and none for a clean message`, async () => {
      const text = await readFile(dir.join(`${format}.txt`), 'utf8');
      const [first, second, rest] = text.split(`${END_MESSAGE}\n`);
      assert.ok(first!.includes('Subject: Welcome'));
      assert.ok(second!.startsWith('lint: 5 findings\n'), second);
      assert.equal(second!.split('\n').slice(1, 6).join('\n'), FINDINGS.join('\n'));
      assert.equal(rest, '', 'the clean message has no block');
    });
  }

  it('puts the findings in every JSON object, which validates against the schema', async () => {
    const records = (await readFile(dir.join('mail.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonRecord);
    for (const r of records) assert.deepEqual(validate(JSON_SCHEMA, r), []);
    assert.deepEqual(
      records[0]!.lint.map((f) => `${f.severity} ${f.code}`),
      [
        'error 8bit-without-8bitmime',
        'error missing-date',
        'warning missing-message-id',
        'warning undeclared-charset',
        'note envelope-from-mismatch',
      ],
    );
    assert.equal(records[0]!.lint[1]!.message, 'no Date header (RFC 5322 3.6: required)');
    assert.deepEqual(records[1]!.lint, []);
  });
});

describe('human formats without --lint', () => {
  it('print exactly what DebuggingServer prints, with no findings block', async () => {
    const cli = await startCli(['127.0.0.1:0']);
    try {
      assert.equal(await deliver(cli.port, SLOPPY_ENVELOPE, SLOPPY), 250);
      assert.ok(cli.stdout().endsWith(`Hello café!\n${END_MESSAGE}\n`), cli.stdout());
    } finally {
      await cli.stop();
    }
  });

  it('JSON carries the findings all the same', async () => {
    const cli = await startCli(['-f', 'json', '127.0.0.1:0']);
    try {
      assert.equal(await deliver(cli.port, SLOPPY_ENVELOPE, SLOPPY), 250);
      assert.equal((JSON.parse(cli.stdout()) as JsonRecord).lint.length, 5);
    } finally {
      await cli.stop();
    }
  });
});

describe('--strict', () => {
  const dir = tempDir('strict');
  let cli: RunningCli;

  before(async () => {
    cli = await startCli([
      '--strict',
      '-f',
      'json',
      '-o',
      dir.join('mail.jsonl'),
      '--save-dir',
      dir.join('maildir'),
      '127.0.0.1:0',
    ]);
  });

  after(() => cli?.stop());

  it('answers 550 naming the first error, writes the message nowhere, and says so on stderr', async () => {
    const c = await SmtpClient.connect(cli.port);
    try {
      await c.read();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<bounces@example.test>');
      await c.command('RCPT TO:<user@example.test>');
      await c.command('DATA');
      c.write(`${SLOPPY}.\r\n`);
      const r = await c.read();
      assert.equal(r.code, 550);
      assert.deepEqual(r.lines, [
        'Error: message rejected by --strict: 8bit-without-8bitmime: 8-bit data (first in line 5) but MAIL FROM has no BODY=8BITMIME (RFC 6152 3)',
      ]);
      // The session goes on: the next transaction is accepted.
      assert.equal((await c.command('MAIL FROM:<app@example.test>')).code, 250);
      await c.command('RCPT TO:<user@example.test>');
      await c.command('DATA');
      c.write(`${CLEAN}.\r\n`);
      assert.equal((await c.read()).code, 250);
    } finally {
      c.close();
    }
    const lines = (await readFile(dir.join('mail.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 1, 'only the accepted message is written');
    assert.equal((JSON.parse(lines[0]!) as JsonRecord).subject, 'Clean');
    assert.equal((await readdir(dir.join('maildir', 'new'))).length, 1, 'nor saved to the Maildir');
    assert.match(cli.stderr(), /message \d+\.1 answered 550: rejected by --strict: 8bit-without-8bitmime/);
  });

  it('accepts a message whose findings are only warnings and notes', async () => {
    const data = CLEAN.replace('Message-ID: <clean@example.test>\r\n', '');
    assert.equal(await deliver(cli.port, { from: 'other@example.test', to: ['user@example.test'] }, data), 250);
  });
});
