/**
 * The protocol lint, rule by rule: each finding from a crafted message, and
 * silence for a clean one. Messages are built with makeMessage (LF becomes
 * CRLF unless the data is given as a Buffer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstError, LINT_CODES, type Finding } from '../../src/lint/findings.js';
import { lintMessage, MAX_LINE_OCTETS, RULES } from '../../src/lint/lint.js';
import { makeMessage } from '../helpers/message.js';

const CLEAN_HEADERS =
  'From: Alice <sender@example.com>\nTo: rcpt@example.com\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <1@example.com>\nSubject: hi\n';
const CLEAN = `${CLEAN_HEADERS}\nHello.\n`;

function codes(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.code);
}

function only(findings: readonly Finding[], code: string): Finding {
  const found = findings.filter((f) => f.code === code);
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(findings)}`);
  return found[0]!;
}

describe('lint', () => {
  it('finds nothing in a clean message', () => {
    assert.deepEqual(lintMessage(makeMessage(CLEAN)), []);
  });

  it('has one rule per code', () => {
    assert.equal(RULES.length, LINT_CODES.length);
  });

  it('reports bare LF and bare CR line endings as an error, with their counts', () => {
    const data = Buffer.from(`${CLEAN_HEADERS.replace(/\n/g, '\r\n')}\r\none\ntwo\rthree\nfour\r\n`, 'latin1');
    const f = only(lintMessage(makeMessage(data)), 'bare-line-ending');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /^2 bare LFs and 1 bare CR: lines must end with CRLF \(RFC 5321 2\.3\.8\)$/);
  });

  it('reports lines over 998 octets, naming the first, and accepts exactly 998', () => {
    const ok = lintMessage(makeMessage(`${CLEAN_HEADERS}\n${'a'.repeat(MAX_LINE_OCTETS)}\n`));
    assert.deepEqual(codes(ok), []);
    const f = only(
      lintMessage(makeMessage(`${CLEAN_HEADERS}\nshort\n${'a'.repeat(999)}\n${'b'.repeat(2000)}\n`)),
      'line-too-long',
    );
    assert.equal(f.severity, 'error');
    assert.equal(f.message, '2 lines over 998 octets, the first is line 8 (999 octets) (RFC 5322 2.1.1)');
  });

  it('reports 8-bit data without BODY=8BITMIME, but not with it', () => {
    const data = `${CLEAN_HEADERS.replace('Subject: hi\n', 'Content-Type: text/plain; charset=utf-8\nSubject: hi\n')}\ncafé\n`;
    const f = only(lintMessage(makeMessage(data)), '8bit-without-8bitmime');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /first in line 8/);
    assert.deepEqual(lintMessage(makeMessage(data, { mailOptions: ['BODY=8BITMIME'] })), []);
    assert.deepEqual(lintMessage(makeMessage(data, { mailOptions: ['BODY=BINARYMIME'] })), []);
  });

  it('reports a non-ASCII envelope address without SMTPUTF8, but not with it', () => {
    const message = makeMessage(CLEAN, { rcptTos: ['rcpt@example.com', 'jörg@example.com'] });
    const f = only(lintMessage(message), 'utf8-address-without-smtputf8');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /'jörg@example\.com'/);
    assert.deepEqual(lintMessage({ ...message, mailOptions: ['SMTPUTF8'] }), []);
  });

  it('reports a missing From and Date as errors and a missing Message-ID as a warning', () => {
    const findings = lintMessage(makeMessage('Subject: bare\n\nbody\n'));
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity]),
      [
        ['missing-from', 'error'],
        ['missing-date', 'error'],
        ['missing-message-id', 'warning'],
      ],
    );
  });

  it('finds headers whatever their case, and stops at the end of the header block', () => {
    const data =
      'FROM: sender@example.com\ndate: Mon, 01 Jan 2024 10:00:00 +0000\nmessage-id: <x@y>\n\nFrom: not a header\n';
    assert.deepEqual(lintMessage(makeMessage(data)), []);
    assert.deepEqual(codes(lintMessage(makeMessage('Subject: x\n\nFrom: sender@example.com\n'))), [
      'missing-from',
      'missing-date',
      'missing-message-id',
    ]);
  });

  for (const from of [
    'Alice',
    'Alice <>',
    '<alice@>',
    'alice@example.com <',
    '"unclosed <a@example.com>',
    'a@example.com,',
    'team: a@example.com;',
  ]) {
    it(`reports a From header that is not a mailbox list: ${from}`, () => {
      const f = only(
        lintMessage(makeMessage(CLEAN.replace('From: Alice <sender@example.com>', `From: ${from}`))),
        'bad-from',
      );
      assert.equal(f.severity, 'error');
      assert.match(f.message, /is not a mailbox list \(RFC 5322 3\.6\.2\)/);
    });
  }

  for (const from of [
    'sender@example.com',
    'Alice <sender@example.com>',
    '"Smith, Alice (CEO)" <sender@example.com>',
    '=?UTF-8?B?w4FsaWNl?= <sender@example.com>',
    'sender@example.com (Alice), Bob <bob@example.com>',
    '"alice smith"@example.com',
    'sender@[192.0.2.1]',
    'Alice\n <sender@example.com>',
  ]) {
    it(`accepts a From header that is a mailbox list: ${JSON.stringify(from)}`, () => {
      const findings = lintMessage(makeMessage(CLEAN.replace('From: Alice <sender@example.com>', `From: ${from}`)));
      assert.ok(!codes(findings).includes('bad-from'), JSON.stringify(findings));
    });
  }

  it('reports non-ASCII header text that is not encoded, naming the fields, unless SMTPUTF8', () => {
    const data = CLEAN.replace('Subject: hi', 'Subject: Grüße\nX-Note: ok\nKeywords: naïve');
    const message = makeMessage(data, { mailOptions: ['BODY=8BITMIME'] });
    const f = only(lintMessage(message), 'unencoded-header');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /^8-bit text in 'Subject', 'Keywords' not encoded as RFC 2047 encoded words/);
    assert.deepEqual(lintMessage({ ...message, mailOptions: ['BODY=8BITMIME', 'SMTPUTF8'] }), []);
    assert.deepEqual(
      lintMessage(makeMessage(CLEAN.replace('Subject: hi', 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?='))),
      [],
    );
  });

  it('warns about an 8-bit text body without a charset, at the top level', () => {
    const message = makeMessage(`${CLEAN_HEADERS}\ncafé\n`, { mailOptions: ['BODY=8BITMIME'] });
    const f = only(lintMessage(message), 'undeclared-charset');
    assert.equal(f.severity, 'warning');
    assert.equal(
      f.message,
      '8-bit text/plain in the body without a charset parameter (RFC 2045 5.2: read as us-ascii)',
    );
    const declared = makeMessage(`${CLEAN_HEADERS}Content-Type: text/plain; charset="utf-8"\n\ncafé\n`, {
      mailOptions: ['BODY=8BITMIME'],
    });
    assert.deepEqual(lintMessage(declared), []);
  });

  it('warns about an 8-bit text part without a charset inside nested multiparts, naming it', () => {
    const data = [
      CLEAN_HEADERS + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer"\n',
      'preamble',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'café',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>café</p>',
      '--inner--',
      '--outer',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'AAEC',
      '--outer',
      '',
      'naïve default text/plain',
      '--outer--',
      '',
    ].join('\n');
    const f = only(lintMessage(makeMessage(data, { mailOptions: ['BODY=8BITMIME'] })), 'undeclared-charset');
    assert.equal(
      f.message,
      '8-bit text/html in part 1.2 and 1 more part without a charset parameter (RFC 2045 5.2: read as us-ascii)',
    );
  });

  it('notes an envelope sender that is not in the From header, but not the null sender', () => {
    const message = makeMessage(CLEAN, { mailFrom: 'bounces@lists.example.com' });
    const f = only(lintMessage(message), 'envelope-from-mismatch');
    assert.equal(f.severity, 'note');
    assert.equal(
      f.message,
      "envelope sender 'bounces@lists.example.com' is not in the From header ('sender@example.com')",
    );
    assert.deepEqual(lintMessage({ ...message, mailFrom: '<>' }), []);
    assert.deepEqual(lintMessage({ ...message, mailFrom: 'SENDER@example.com' }), [], 'compared without case');
  });

  it('lists findings in rule order, so the first error is the most basic', () => {
    const data = Buffer.from('Subject: x\nFrom: nobody\r\n\r\ncaf\xc3\xa9\r\n', 'latin1');
    const findings = lintMessage(makeMessage(data));
    assert.deepEqual(codes(findings), [
      'bare-line-ending',
      '8bit-without-8bitmime',
      'missing-date',
      'missing-message-id',
      'bad-from',
      'undeclared-charset',
    ]);
    assert.equal(firstError(findings)?.code, 'bare-line-ending');
  });

  it('keeps finding texts free of control characters, quoting message text', () => {
    const data = CLEAN.replace('From: Alice <sender@example.com>', 'From: \x1b[31mred');
    const f = only(lintMessage(makeMessage(data)), 'bad-from');
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(f.message), f.message);
    assert.match(f.message, /\\x1b\[31mred/);
  });

  it('lints a 32 MiB message in bounded time, finding what is in it', () => {
    const line = `${'x'.repeat(76)}\r\n`;
    const body = Buffer.alloc(32 * 1024 * 1024, line);
    const data = Buffer.concat([
      Buffer.from(CLEAN_HEADERS.replace(/\n/g, '\r\n') + '\r\n'),
      body,
      Buffer.from(`${'y'.repeat(1200)}\r\n\xff\r\n`, 'latin1'),
    ]);
    const started = process.hrtime.bigint();
    const findings = lintMessage(makeMessage(data));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(codes(findings), ['line-too-long', '8bit-without-8bitmime', 'undeclared-charset']);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });
});

describe('lint on hostile headers', () => {
  // Once, a display name of one kind of character followed by a stray one
  // made the From check backtrack exponentially: 40 characters froze the sink.
  for (const name of ['a'.repeat(5000), '!'.repeat(5000), 'a.'.repeat(3000), ' '.repeat(5000)]) {
    it(
      `judges a From of a ${name.length}-character display name and a stray ';' at once (${JSON.stringify(name.slice(0, 2))}...)`,
      { timeout: 5000 },
      () => {
        const findings = lintMessage(
          makeMessage(`From: ${name}; <a@example.com>\nTo: b@example.com\nSubject: x\n\nbody\n`),
        );
        assert.ok(
          findings.some((f) => f.code === 'bad-from'),
          JSON.stringify(findings),
        );
      },
    );
  }
});
