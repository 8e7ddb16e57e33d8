/** Byte scripts for ENHANCEDSTATUSCODES, DSN and LMTP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEnhancedCode } from '../../src/channel/enhanced-codes.js';
import { R, reply } from '../../src/channel/reply.js';
import { codes, crlf, script } from '../helpers/byte-script.js';

const TX = ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA', 'x', '.'];

describe('ENHANCEDSTATUSCODES (RFC 2034, 3463)', () => {
  it('is advertised and puts the code before every reply but the greeting and the EHLO reply', () => {
    const o = script(crlf('EHLO x', ...TX, 'NOOP', 'FOO', 'MAIL', 'QUIT'), { enhancedStatusCodes: true });
    assert.ok(o.lines.includes('250-ENHANCEDSTATUSCODES'));
    const after = o.lines.slice(o.lines.indexOf('250 HELP') + 1);
    assert.deepEqual(after, [
      '250 2.1.0 OK',
      '250 2.1.5 OK',
      '354 End data with <CR><LF>.<CR><LF>',
      '250 2.6.0 OK',
      '250 2.0.0 OK',
      '500 5.5.1 Error: command "FOO" not recognized',
      '501 5.5.4 Syntax: MAIL FROM: <address> [SP <mail-parameters>]',
      '221 2.0.0 Bye',
    ]);
    assert.match(o.lines[0]!, /^220 sink\.test /);
  });

  it('gives every reply in the table a code, and a handler reply its class code unless it has one', () => {
    for (const [name, r] of Object.entries(R)) {
      const value = typeof r === 'function' ? (r as (x: never) => ReturnType<typeof reply>)('x' as never) : r;
      assert.equal(typeof value.enhanced, 'string', `${name} has an enhanced code`);
    }
    assert.deepEqual(withEnhancedCode(reply(550, 'No such user')).lines, ['5.0.0 No such user']);
    assert.deepEqual(withEnhancedCode(reply(550, '5.1.1 No such user')).lines, ['5.1.1 No such user']);
    const o = script(crlf('EHLO x', ...TX), { enhancedStatusCodes: true }, () => reply(451, 'later'));
    assert.equal(o.lines.at(-1), '451 4.0.0 later');
  });

  it('leaves replies alone when off', () => {
    assert.deepEqual(script(crlf('NOOP')).lines.slice(1), ['250 OK']);
  });
});

describe('DSN (RFC 3461)', () => {
  it('is advertised and takes RET, ENVID, NOTIFY and ORCPT, recorded in the options', () => {
    const o = script(
      crlf(
        'EHLO x',
        'MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1',
        'RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d',
        'DATA',
        'x',
        '.',
      ),
      { dsn: true },
    );
    assert.ok(o.lines.includes('250-DSN'));
    assert.deepEqual(codes(o), [250, 250, 250, 354, 250]);
    assert.deepEqual(o.messages[0]!.mailOptions, ['RET=HDRS', 'ENVID=QQ+2B1']);
    assert.deepEqual(o.messages[0]!.rcptOptions, ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=RFC822;C@D']);
  });

  it('answers 501 to malformed DSN parameters', () => {
    const o = script(
      crlf(
        'EHLO x',
        'MAIL FROM:<a@b> RET=ALL',
        'MAIL FROM:<a@b> ENVID',
        'MAIL FROM:<a@b>',
        'RCPT TO:<c@d> NOTIFY=NEVER,SUCCESS',
        'RCPT TO:<c@d> ORCPT=c@d',
        'RCPT TO:<c@d> NOTIFY=NEVER',
      ),
      { dsn: true },
    );
    assert.deepEqual(codes(o), [250, 501, 501, 250, 501, 501, 250]);
  });

  it('leaves DSN parameters unrecognized (555) without dsn, as smtpd did', () => {
    assert.deepEqual(
      codes(script(crlf('EHLO x', 'MAIL FROM:<a@b> RET=FULL', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d> NOTIFY=NEVER'))),
      [250, 555, 250, 555],
    );
  });
});

describe('LMTP (RFC 2033)', () => {
  it('greets with LHLO, refuses HELO and EHLO, and answers once per recipient after the data', () => {
    const o = script(
      crlf('HELO x', 'EHLO x', 'LHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'RCPT TO:<e@f>', 'DATA', 'x', '.', 'QUIT'),
      { lmtp: true },
    );
    assert.deepEqual(codes(o), [500, 500, 250, 250, 250, 250, 354, 250, 250, 221]);
    assert.deepEqual(o.messages[0]!.rcptTos, ['c@d', 'e@f']);
  });

  it('repeats a refusal for each recipient, and works with BDAT', () => {
    const o = script(
      crlf('LHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'RCPT TO:<e@f>', 'BDAT 0 LAST'),
      { lmtp: true, chunking: true },
      () => reply(452, 'mailbox full'),
    );
    assert.deepEqual(o.lines.slice(-2), ['452 mailbox full', '452 mailbox full']);
  });

  it('leaves LHLO unknown without lmtp', () => {
    assert.deepEqual(codes(script(crlf('LHLO x'))), [500]);
  });
});

describe('LMTP refusals at the end of data', () => {
  it('answers a message over the size limit once per recipient', () => {
    const o = script(
      crlf('LHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'RCPT TO:<e@f>', 'DATA', 'x'.repeat(40), '.', 'NOOP'),
      { lmtp: true, dataSizeLimit: 16 },
    );
    assert.deepEqual(codes(o), [250, 250, 250, 250, 354, 552, 552, 250]);
  });
});
