import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSendmailArgs } from '../../../src/cli/sendmail/sendmail-args.js';
import { buildSubmission } from '../../../src/cli/sendmail/submission.js';
import { UsageError } from '../../../src/errors.js';

const ORIGIN = { user: 'www-data', hostname: 'box.test', now: new Date(Date.UTC(2026, 11, 1, 10, 0, 0)), unique: 'u1' };
const args = (argv: string[], env = {}) => parseSendmailArgs(argv, env);
const build = (text: string, argv: string[] = []) => {
  const s = buildSubmission(Buffer.from(text, 'latin1'), args(argv), ORIGIN);
  return { ...s, text: s.data.toString('latin1') };
};

describe("sendmail's command line", () => {
  it('reads the flags PHP, cron and scripts pass, attached or not', () => {
    const a = args([
      '-t',
      '-i',
      '-fme@x.test',
      '-F',
      'Me',
      '-odi',
      '-oem',
      '-bm',
      '-v',
      'a@x.test,b@x.test',
      'c@x.test',
    ]);
    assert.deepEqual(
      [a.readRecipients, a.ignoreDots, a.sender, a.fullName, a.recipients],
      [true, true, 'me@x.test', 'Me', ['a@x.test', 'b@x.test', 'c@x.test']],
    );
    assert.equal(args(['-oi']).ignoreDots, true);
    assert.equal(args(['-r', 'bounce@x.test']).sender, 'bounce@x.test');
    assert.deepEqual(args(['--', '-odd@x.test']).recipients, ['-odd@x.test']);
  });

  it('finds the sink in -S, --smtp-addr or SMTPD_TS_SMTP_ADDR, else 127.0.0.1:1025', () => {
    assert.deepEqual(args([]).sink, { host: '127.0.0.1', port: 1025 });
    assert.deepEqual(args([], { SMTPD_TS_SMTP_ADDR: '127.0.0.1:2525' }).sink, { host: '127.0.0.1', port: 2525 });
    assert.deepEqual(args(['--smtp-addr=[::1]:26'], { SMTPD_TS_SMTP_ADDR: 'x:1' }).sink, { host: '::1', port: 26 });
    assert.deepEqual(args(['-S', 'h.test:27']).sink, { host: 'h.test', port: 27 });
  });

  it('refuses what it cannot do with a usage error, and a line break where it would start a header or command', () => {
    const breaks = [
      ['-F', 'Name\nBcc: x@evil.test'],
      ['-F', 'Name\rBcc: x@evil.test'],
      ['-f', 'a@b\r\nRCPT TO:<x@evil.test>'],
    ];
    for (const bad of [['-bs'], ['-bp'], ['-Z'], ['-f'], ['--smtp-addr'], ['-S', 'nohost'], ...breaks, ['a@b\nc']])
      assert.throws(() => args(bad), UsageError, bad.join(' '));
  });
});

describe('the submitted message', () => {
  it('adds From, Date and Message-ID where missing, as a submission server would', () => {
    const s = build('Subject: hi\n\nbody\n', ['-F', 'Web Server', 'x@y.test']);
    assert.equal(s.mailFrom, 'www-data@box.test');
    assert.deepEqual(s.rcptTos, ['x@y.test']);
    assert.equal(
      s.text,
      'Subject: hi\r\nFrom: Web Server <www-data@box.test>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <u1@box.test>\r\n\r\nbody\n',
    );
  });

  it('reads a bare CR in the header as a space: it cannot smuggle in a hidden Bcc line', () => {
    const s = build('To: a@x.test\rBcc: evil@x.test\nSubject: s\n\nbody\n', ['-t']);
    // One To field, shown whole to every reader; no field of its own that -t would hide.
    assert.match(s.text, /^To: a@x.test Bcc: evil@x.test\r\nSubject: s\r\n/);
    assert.doesNotMatch(s.text, /\r(?!\n)/);
  });

  it('keeps the headers it has, takes the sender from From, and with -t the recipients from To, Cc and Bcc', () => {
    const s = build(
      'From: "Shop, Inc." <shop@x.test>\nTo: A <a@x.test>,\n  b@x.test\nCc: grp: c@x.test, d@x.test;\nBcc: e@x.test\nDate: x\nMessage-ID: <m@x>\n\nhi\n',
      ['-t', 'a@x.test'],
    );
    assert.equal(s.mailFrom, 'shop@x.test');
    assert.deepEqual(s.rcptTos, ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test']);
    assert.ok(!/bcc/i.test(s.text) && s.text.includes('To: A <a@x.test>,\r\n  b@x.test\r\n'));
  });

  it('ends the input at a lone dot unless -i, and takes a message without headers as body', () => {
    assert.equal(build('Subject: a\n\none\n.\ntwo\n', ['x@y']).text.endsWith('\r\n\r\none\n'), true);
    assert.equal(build('Subject: a\n\none\n.\ntwo\n', ['-i', 'x@y']).text.endsWith('one\n.\ntwo\n'), true);
    const bare = build('hello world\n', ['x@y']).text;
    assert.match(bare, /^From: www-data@box\.test\r\nDate: .*\r\nMessage-ID: <u1@box\.test>\r\n\r\nhello world\n$/);
  });
});
