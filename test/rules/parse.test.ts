import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRule, parseRulesFile } from '../../src/rules/parse.js';
import { RuleSyntaxError } from '../../src/errors.js';

describe('parseRule', () => {
  it('reads a pattern, a reply with its enhanced code and text', () => {
    const r = parseRule('RCPT~bounce@=550 5.1.1 No such user');
    assert.equal(r.verb, 'RCPT');
    assert.ok(r.pattern?.test('TO:<BOUNCE@example.test>'), 'case-insensitive');
    assert.deepEqual(r.action, {
      delayMs: 0,
      drop: false,
      reply: { code: 550, lines: ['5.1.1 No such user'], enhanced: '' },
      close: false,
    });
  });

  it('reads occurrences: the Nth, the Nth and after, every Nth', () => {
    assert.deepEqual(parseRule('EOD#3=451 4.3.0 Try again later').occurrence, { kind: 'nth', n: 3 });
    assert.deepEqual(parseRule('MAIL#2+=451 later').occurrence, { kind: 'from', n: 2 });
    assert.deepEqual(parseRule('RCPT#*4=452 full').occurrence, { kind: 'every', n: 4 });
  });

  it('reads a close after the reply, a drop, delays and a probability', () => {
    const close = parseRule('MAIL#2=421 Bye!close');
    assert.deepEqual([close.action.reply?.code, close.action.reply?.lines, close.action.close], [421, ['Bye'], true]);
    assert.equal(parseRule('DATA=drop').action.drop, true);
    assert.deepEqual(parseRule('CONNECT=delay:2s').action, { delayMs: 2000, drop: false, reply: null, close: false });
    assert.equal(parseRule('EOD=delay:250ms 451 later').action.delayMs, 250);
    assert.equal(parseRule('*=delay:1.5s').action.delayMs, 1500);
    assert.equal(parseRule('EOD?12.5%=451 4.3.0 Random').probability, 0.125);
    const all = parseRule('RCPT~/a#b?c=d/#2?50%=550 x');
    assert.equal(all.pattern?.source, 'a#b?c=d');
    assert.deepEqual([all.occurrence, all.probability], [{ kind: 'nth', n: 2 }, 0.5]);
  });

  it('keeps a reply without an enhanced code plain, so ENHANCEDSTATUSCODES may add one', () => {
    assert.deepEqual(parseRule('EOD=250 Queued as 42').action.reply, { code: 250, lines: ['Queued as 42'] });
    assert.deepEqual(parseRule('CONNECT=554!close').action.reply, { code: 554, lines: [''] });
  });

  for (const [source, message] of [
    ['RCTP=550 x', /^bad rule 'RCTP=550 x': unknown verb 'RCTP': expected one of CONNECT EHLO/],
    ['RCPT~bounce@', /no '=': expected VERB\[~PATTERN\]\[#N\]\[\?P%\]=ACTION$/],
    ['RCPT~(=550 x', /bad pattern '\(': /],
    ['RCPT~=550 x', /empty pattern after '~'/],
    ['RCPT~/abc=550 x', /pattern '\/abc=550 x' has no closing '\/'/],
    ['CONNECT~x=554', /CONNECT takes no ~PATTERN/],
    ['EOD#0=451 x', /bad occurrence '#0': expected #N, #N\+ or #\*N with N from 1/],
    ['EOD#x=451 x', /bad occurrence '#x'/],
    ['EOD?150%=451 x', /bad probability '\?150%': expected 0% to 100%/],
    ['EOD?0.5=451 x', /bad probability '\?0\.5'/],
    ['EOD#2~x=451 x', /unexpected '~x=451 x' after EOD: expected ~PATTERN, #N, \?P% \(in that order\) then '='/],
    ['RCPT=', /nothing after '=': expected a reply, drop, or delay:DURATION/],
    ['RCPT=five fifty', /bad reply 'five fifty': expected CODE \[X\.Y\.Z\] \[TEXT\], drop, or delay:DURATION/],
    ['RCPT=650 x', /bad reply code 650: expected 200 to 599/],
    ['RCPT=250 OK', /reply code 250 for RCPT: expected 4xx or 5xx/],
    ['CONNECT=250 hi', /reply code 250 for CONNECT: expected 220, 4xx or 5xx/],
    ['EOD=354 go', /reply code 354 for EOD: expected 2xx, 4xx or 5xx/],
    ['RCPT=550 4.1.1 x', /enhanced code 4\.1\.1 does not match reply code 550/],
    ['RCPT=550 5.1 x', /bad enhanced code '5\.1': expected X\.Y\.Z/],
    ['RCPT=550 caf\u00e9', /reply text 'caf\u00e9' has a control or non-ASCII character/],
    ['EOD=delay:soon', /bad delay 'soon': expected e\.g\. 500ms, 2s or 2\.5s/],
    ['EOD=delay:700s', /delay '700s' is over 600s/],
  ] as [string, RegExp][]) {
    it(`rejects ${JSON.stringify(source)} with one line naming the bad part`, () => {
      assert.throws(
        () => parseRule(source),
        (err: unknown) => {
          assert.ok(err instanceof RuleSyntaxError);
          assert.equal(err.code, 'ERR_SMTPD_RULE_SYNTAX');
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'));
          return true;
        },
      );
    });
  }
});

describe('parseRulesFile', () => {
  it('skips blank lines and comments, and names the line of a bad rule', () => {
    const rules = parseRulesFile(
      '# scenario\n\nRCPT~bounce@=550 5.1.1 No such user\r\n  # indented comment\nEOD#3=451 4.3.0 Later\n',
      'f.rules',
    );
    assert.deepEqual(
      rules.map((r) => r.source),
      ['RCPT~bounce@=550 5.1.1 No such user', 'EOD#3=451 4.3.0 Later'],
    );
    assert.throws(
      () => parseRulesFile('# ok\nMAIL=250 OK\n', 'f.rules'),
      /^RuleSyntaxError: f\.rules line 2: bad rule 'MAIL=250 OK': reply code 250 for MAIL/,
    );
  });
});
