import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChannelConfig } from '../../src/channel/config.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRule } from '../../src/rules/parse.js';
import { codes, crlf, script } from '../helpers/byte-script.js';

/** A fresh engine per run: its counters must not carry over between the script's runs. */
const rules =
  (...sources: string[]) =>
  (): Partial<ChannelConfig> => ({ replyRule: new RuleEngine(sources.map(parseRule), 1).hook });

const MESSAGE = ['MAIL FROM:<a@x>', 'RCPT TO:<b@x>', 'DATA', 'Subject: hi', '', 'body', '.'];

describe('scripted replies in the channel', () => {
  it('refuses a matching recipient with the rule reply and keeps the others', () => {
    const o = script(
      crlf('EHLO c', 'MAIL FROM:<a@x>', 'RCPT TO:<bounce@x>', 'RCPT TO:<ok@x>', 'DATA', 'x', '.', 'QUIT'),
      rules('RCPT~bounce@=550 5.1.1 No such user'),
    );
    assert.deepEqual(codes(o), [250, 250, 550, 250, 354, 250, 221]);
    assert.ok(o.lines.includes('550 5.1.1 No such user'));
    assert.deepEqual(o.messages[0]!.rcptTos, ['ok@x']);
    assert.deepEqual(o.messages[0]!.rules, ['RCPT~bounce@=550 5.1.1 No such user']);
    assert.deepEqual(o.faults, ['rule RCPT~bounce@=550 5.1.1 No such user']);
  });

  it('answers the third message with the rule reply, not handing it over', () => {
    const o = script(
      crlf('EHLO c', ...MESSAGE, ...MESSAGE, ...MESSAGE, ...MESSAGE, 'QUIT'),
      rules('EOD#3=451 4.3.0 Try again later'),
    );
    assert.deepEqual(
      codes(o),
      [250, 250, 250, 354, 250, 250, 250, 354, 250, 250, 250, 354, 451, 250, 250, 354, 250, 221],
    );
    assert.equal(o.messages.length, 3);
    assert.ok(o.messages.every((m) => m.rules === undefined));
  });

  it('answers the second MAIL with 421 and closes', () => {
    const o = script(
      crlf('EHLO c', 'MAIL FROM:<a@x>', 'RSET', 'MAIL FROM:<a@x>', 'NOOP'),
      rules('MAIL#2=421 Bye!close'),
    );
    assert.deepEqual(codes(o), [250, 250, 250, 421]);
    assert.equal(o.closed, true);
  });

  it('drops the connection mid-DATA, after the 354, with nothing handed over', () => {
    const o = script(crlf('EHLO c', ...MESSAGE, 'QUIT'), rules('DATA=drop'));
    assert.deepEqual(codes(o), [250, 250, 250, 354]);
    assert.deepEqual(o.faults, ['rule DATA=drop', 'drop']);
    assert.equal(o.messages.length, 0);
    assert.equal(o.closed, true);
  });

  it('drops when DATA is refused, since no data will come', () => {
    const o = script(crlf('EHLO c', 'DATA', 'NOOP'), rules('DATA=drop'));
    assert.deepEqual(codes(o), [250, 503]);
    assert.deepEqual(o.faults, ['rule DATA=drop', 'drop']);
  });

  it('puts a delay before the normal reply, and before the greeting', () => {
    const o = script(crlf('EHLO c', 'NOOP', 'QUIT'), rules('CONNECT=delay:2s', 'NOOP=delay:300ms'));
    assert.deepEqual(codes(o), [250, 250, 221]);
    assert.deepEqual(o.faults, ['rule CONNECT=delay:2s', 'delay 2000', 'rule NOOP=delay:300ms', 'delay 300']);
  });

  it('replaces the greeting, and an accepted verdict with an EOD 2xx after its delay', () => {
    const o = script(
      crlf('EHLO c', ...MESSAGE, 'QUIT'),
      rules('CONNECT=220 fake.example ESMTP', 'EOD=delay:10ms 250 2.0.0 Queued as 42'),
    );
    assert.equal(o.lines[0], '220 fake.example ESMTP');
    assert.ok(o.lines.includes('250 2.0.0 Queued as 42'));
    assert.deepEqual(o.messages[0]!.rules, ['EOD=delay:10ms 250 2.0.0 Queued as 42']);
    assert.deepEqual(o.faults, [
      'rule CONNECT=220 fake.example ESMTP',
      'rule EOD=delay:10ms 250 2.0.0 Queued as 42',
      'delay 10',
    ]);
  });

  it('matches AUTH on its mechanism only and EOD on the headers', () => {
    const o = script(crlf('EHLO c', 'AUTH PLAIN AGEAYg==', ...MESSAGE), () => ({
      ...rules('AUTH~^plain$=535 5.7.8 No', 'EOD~^subject: hi=554 5.6.0 Spam')(),
      auth: { insecure: true },
    }));
    assert.deepEqual(codes(o), [250, 535, 250, 250, 354, 554]);
  });

  it('gives enhanced codes to rule replies without one only with ENHANCEDSTATUSCODES', () => {
    const plain = script(crlf('EHLO c', 'NOOP'), rules('NOOP=450 busy'));
    const enhanced = script(crlf('EHLO c', 'NOOP'), () => ({ ...rules('NOOP=450 busy')(), enhancedStatusCodes: true }));
    assert.equal(plain.lines.at(-1), '450 busy');
    assert.equal(enhanced.lines.at(-1), '450 4.0.0 busy');
  });

  it('changes nothing when no rule fires', () => {
    const input = crlf('EHLO c', ...MESSAGE, 'QUIT');
    assert.deepEqual(script(input, rules('RCPT~nobody@=550 no')), script(input));
  });
});
