/**
 * Expectations judged over JSON records: each operator, each quantifier,
 * --expect-count ranges, the nearest messages shown for a failure, and the
 * exit code judgeRun gives each outcome.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { holds } from '../../src/expect/evaluate.js';
import { judgeRun } from '../../src/expect/outcome.js';
import { parseCountRange, parseExpectation } from '../../src/expect/parse.js';
import { ExpectationTracker, formatReport, NEAREST } from '../../src/expect/tracker.js';
import { toJsonRecord, type JsonRecord } from '../../src/printers/json.js';
import type { ParsedMessage } from '../../src/mime/parse-message.js';
import { EXIT } from '../../src/exit-codes.js';
import { makeMessage } from '../helpers/message.js';

function record(
  id: number,
  parsed: Partial<ParsedMessage> = {},
  envelope: { mailFrom?: string; rcptTos?: string[] } = {},
): JsonRecord {
  const full: ParsedMessage = {
    headers: [],
    messageId: null,
    subject: null,
    from: [],
    to: [],
    cc: [],
    bcc: [],
    date: null,
    text: null,
    html: null,
    attachments: [],
    ...parsed,
  };
  return toJsonRecord(makeMessage('Subject: x\n\nbody\n', { id: `9.${id}`, ...envelope }), {
    parsed: full,
    lint: [{ code: 'missing-date', severity: 'error', message: 'no Date header' }],
  });
}

const ATTACHMENT = {
  filename: 'a.pdf',
  contentType: 'application/pdf',
  size: 2000,
  sha256: '0'.repeat(64),
  disposition: 'attachment',
  contentId: null,
};
const WELCOME = record(
  1,
  { subject: 'Welcome', from: [{ name: 'App', address: 'app@example.test' }], attachments: [ATTACHMENT] },
  { rcptTos: ['user@example.test', 'audit@corp.test'] },
);
const OTHER = record(2, { subject: 'Receipt' }, { rcptTos: ['other@corp.test'] });

function check(expr: string, r: JsonRecord): boolean {
  return parseExpectation(expr).predicates.every((p) => holds(p, r));
}

describe('holds', () => {
  it('= and != compare exactly; != holds when no value equals', () => {
    assert.equal(check('subject=Welcome', WELCOME), true);
    assert.equal(check('subject=welcome', WELCOME), false);
    assert.equal(check('subject!=Welcome', WELCOME), false);
    assert.equal(check('rcptTo=audit@corp.test', WELCOME), true);
    assert.equal(check('rcptTo!=audit@corp.test', WELCOME), false);
    assert.equal(check('rcptTo!=nobody@corp.test', WELCOME), true);
  });

  it('~ is a case-insensitive substring or a regex; !~ holds when nothing matches', () => {
    assert.equal(check('rcptTo~@EXAMPLE.test', WELCOME), true);
    assert.equal(check('rcptTo~@example.test', OTHER), false);
    assert.equal(check('rcptTo!~@example.test', OTHER), true);
    assert.equal(check('subject~/^Wel+come$/', WELCOME), true);
    assert.equal(check('subject~/^welcome$/', WELCOME), false);
    assert.equal(check('subject~/^welcome$/i', WELCOME), true);
  });

  it('walks into objects and across lists', () => {
    assert.equal(check('from.address=app@example.test', WELCOME), true);
    assert.equal(check('from.name~app', WELCOME), true);
    assert.equal(check('from.address=app@example.test', OTHER), false);
    assert.equal(check('attachments.filename~.pdf', WELCOME), true);
    assert.equal(check('peer.address=127.0.0.1', WELCOME), true);
    assert.equal(check('lint.code=missing-date', WELCOME), true);
  });

  it('< <= > >= compare numbers and list lengths', () => {
    assert.equal(check('attachments>=1', WELCOME), true);
    assert.equal(check('attachments>=1', OTHER), false);
    assert.equal(check('attachments<1', OTHER), true);
    assert.equal(check('rcptTo=2', WELCOME), false, '= compares values, not lengths');
    assert.equal(check('rcptTo>1', WELCOME), true);
    assert.equal(check('attachments.size>1000', WELCOME), true);
    assert.equal(check('size<10', WELCOME), false);
    assert.equal(check('lint<1', WELCOME), false);
  });

  it('reads null as the empty string, and compares numbers and booleans as text', () => {
    assert.equal(check('messageId=', WELCOME), true);
    assert.equal(check('subject=', WELCOME), false);
    assert.equal(check('esmtp=true', WELCOME), true);
    assert.equal(check('schemaVersion=1', WELCOME), true);
  });

  it('&& needs every predicate to hold of the same message', () => {
    assert.equal(check('subject=Welcome && rcptTo~@corp.test', WELCOME), true);
    assert.equal(check('subject=Receipt && rcptTo~@example.test', OTHER), false);
  });
});

function track(count: string | null, exprs: string[], records: JsonRecord[]) {
  const tracker = new ExpectationTracker(count === null ? null : parseCountRange(count), exprs.map(parseExpectation));
  for (const r of records) tracker.observe(r);
  return tracker;
}

describe('ExpectationTracker', () => {
  it('holds --expect-count ranges against the number of messages', () => {
    assert.equal(track('2', [], [WELCOME, OTHER]).report().ok, true);
    assert.equal(track('2..5', [], [WELCOME]).report().ok, false);
    assert.equal(track('>=1', [], []).report().ok, false);
    assert.equal(track('0', [], []).report().ok, true);
  });

  it('some (the default) holds once any message matches', () => {
    assert.equal(track(null, ['subject=Receipt'], [WELCOME, OTHER]).report().ok, true);
    const report = track(null, ['subject=Invoice'], [WELCOME, OTHER]).report();
    assert.equal(report.ok, false);
    assert.equal(report.results[0]!.detail, 'none of 2 messages matched; nearest:');
  });

  it('every holds when all messages match (also when none arrived), none when no message does', () => {
    assert.equal(track(null, ['every: rcptTo~@corp.test'], [WELCOME, OTHER]).report().ok, true);
    assert.equal(
      track(null, ['every: attachments>=1'], [WELCOME, OTHER]).report().results[0]!.detail,
      '1 of 2 messages did not match, e.g.:',
    );
    assert.equal(track(null, ['every: attachments>=1'], []).report().ok, true);
    assert.equal(track(null, ['none: subject~invoice'], [WELCOME, OTHER]).report().ok, true);
    const none = track(null, ['none: subject~welcome'], [WELCOME, OTHER]).report().results[0]!;
    assert.deepEqual(
      [none.ok, none.detail, none.messages.map((m) => m.id)],
      [false, '1 message matched, e.g.:', ['9.1']],
    );
  });

  it(`shows the ${NEAREST} nearest misses of a failed expectation, best first`, () => {
    const records = [OTHER, record(3, { subject: 'Welcome' }), record(4), record(5), WELCOME];
    const report = track(null, ['subject=Welcome && attachments>=2'], records).report();
    const ids = report.results[0]!.messages.map((m) => m.id);
    assert.deepEqual(ids, ['9.3', '9.1', '9.2']);
    assert.match(
      report.results[0]!.messages[0]!.text,
      /^9\.3 from <sender@example\.com> to <rcpt@example\.com>: subject="Welcome", attachments=0 item\(s\)$/,
    );
  });

  it('formats a report: a headline, a line per expectation, the messages indented', () => {
    const text = formatReport(track('1', ['subject=Invoice', 'rcptTo~@corp.test'], [OTHER]).report());
    assert.equal(
      text,
      [
        'smtpd-ts: expectations: 1 of 3 failed (1 message accepted)',
        '  ok     --expect-count 1: 1 message accepted',
        "  FAILED --expect 'subject=Invoice': none of 1 message matched; nearest:",
        '           9.2 from <sender@example.com> to <other@corp.test>: subject="Receipt"',
        "  ok     --expect 'rcptTo~@corp.test': 1 message matched",
        '',
      ].join('\n'),
    );
  });
});

describe('judgeRun', () => {
  const judge = (end: { code: number; reason: string | null }, ok: boolean, exitAfter: number | null) => {
    const log = new PassThrough();
    return judgeRun(end, track(null, [ok ? 'subject=Welcome' : 'subject=Nope'], [WELCOME]), exitAfter, log);
  };

  it('exits 0 when every expectation held and 4 when one failed', () => {
    assert.equal(judge({ code: EXIT.OK, reason: null }, true, 1), EXIT.OK);
    assert.equal(judge({ code: EXIT.OK, reason: null }, false, 1), EXIT.EXPECTATION_FAILED);
    assert.equal(EXIT.EXPECTATION_FAILED, 4);
  });

  it('keeps 3 for a timeout before --exit-after was reached, and judges a timeout without it', () => {
    assert.equal(judge({ code: EXIT.TIMEOUT, reason: 'timeout' }, true, 2), EXIT.TIMEOUT);
    assert.equal(judge({ code: EXIT.TIMEOUT, reason: 'timeout' }, true, null), EXIT.OK);
    assert.equal(judge({ code: EXIT.TIMEOUT, reason: 'timeout' }, false, null), EXIT.EXPECTATION_FAILED);
  });
});
