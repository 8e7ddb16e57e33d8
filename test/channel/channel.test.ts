import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMTPChannel } from '../../src/channel/channel.js';
import { reply } from '../../src/channel/reply.js';
import { CONFIG, codes, crlf, feed, prng, script } from '../helpers/byte-script.js';
import { ChannelUsageError } from '../../src/errors.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRule } from '../../src/rules/parse.js';

const EHLO = 'EHLO client.test';
const TX = ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>'];

describe('greeting and session commands', () => {
  it('greets with 220, the host name and the banner', () => {
    assert.deepEqual(script('').lines, ['220 sink.test smtpd-ts test']);
  });

  it('answers HELO with the host name and rejects a second greeting with 503 like smtpd', () => {
    const o = script(crlf('HELO client.test', 'EHLO again.test', 'HELO'));
    assert.deepEqual(o.lines.slice(1), ['250 sink.test', '503 Duplicate HELO/EHLO', '501 Syntax: HELO hostname']);
  });

  it('lists SIZE, 8BITMIME, PIPELINING and HELP after EHLO', () => {
    const o = script(crlf(EHLO));
    assert.deepEqual(o.lines.slice(1), [
      '250-sink.test',
      '250-SIZE 33554432',
      '250-8BITMIME',
      '250-PIPELINING',
      '250 HELP',
    ]);
  });

  it('lists SMTPUTF8 only when enabled and no SIZE when the limit is 0', () => {
    const o = script(crlf(EHLO), { smtputf8: true, dataSizeLimit: 0 });
    assert.deepEqual(o.lines.slice(1), ['250-sink.test', '250-8BITMIME', '250-SMTPUTF8', '250-PIPELINING', '250 HELP']);
  });

  it('requires an argument for EHLO', () => {
    assert.deepEqual(script(crlf('EHLO', 'EHLO   ')).lines.slice(1), [
      '501 Syntax: EHLO hostname',
      '501 Syntax: EHLO hostname',
    ]);
  });

  it('accepts verbs in any letter case', () => {
    assert.deepEqual(codes(script(crlf('ehlo x', 'NoOp', 'rset', 'quit'))), [250, 250, 250, 221]);
  });

  it('answers NOOP and RSET with 250, and 501 when they carry an argument', () => {
    assert.deepEqual(codes(script(crlf('NOOP', 'NOOP x', 'RSET', 'RSET x'))), [250, 501, 250, 501]);
  });

  it('answers QUIT with 221, closes, and ignores anything after it', () => {
    const o = script(crlf('QUIT', 'NOOP', 'NOOP'));
    assert.deepEqual(o.lines.slice(1), ['221 Bye']);
    assert.equal(o.closed, true);
  });

  it('answers unknown commands with 500 naming the upper-cased verb', () => {
    assert.deepEqual(script(crlf('FOO bar', 'xyzzy')).lines.slice(1), [
      '500 Error: command "FOO" not recognized',
      '500 Error: command "XYZZY" not recognized',
    ]);
  });

  it('answers an empty line with 500 bad syntax', () => {
    assert.deepEqual(script(crlf('')).lines.slice(1), ['500 Error: bad syntax']);
  });

  it('never echoes control characters of the peer back into a reply', () => {
    const o = script(crlf('FOO\rX-Injected: yes', 'X\x1b[2J'));
    assert.deepEqual(o.lines.slice(1), [
      '500 Error: command "FOO\\x0dX-INJECTED:" not recognized',
      '500 Error: command "X\\x1b[2J" not recognized',
    ]);
  });

  it('answers a command line that is not UTF-8 with 500 instead of dropping the connection', () => {
    const o = script(Buffer.concat([Buffer.from('NOOP \xff\xfe', 'latin1'), Buffer.from('\r\nNOOP\r\n')]));
    assert.deepEqual(o.lines.slice(1), ['500 Error: command line is not valid UTF-8', '250 OK']);
  });
});

describe('HELP, VRFY and EXPN', () => {
  it('lists the commands smtpd lists', () => {
    assert.deepEqual(script(crlf('HELP')).lines.slice(1), [
      '250 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY',
    ]);
  });

  it('gives each verb its syntax, extended after EHLO, and 501 for unknown topics', () => {
    const o = script(crlf('HELP mail', 'HELP DATA', 'HELP EXPN', EHLO, 'HELP MAIL', 'HELP RCPT'));
    assert.deepEqual(o.lines.filter((l) => !l.startsWith('250-')).slice(1), [
      '250 Syntax: MAIL FROM: <address>',
      '250 Syntax: DATA',
      '501 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY',
      '250 HELP',
      '250 Syntax: MAIL FROM: <address> [SP <mail-parameters>]',
      '250 Syntax: RCPT TO: <address> [SP <mail-parameters>]',
    ]);
  });

  it('answers VRFY with 252 for an address, 502 for garbage and 501 without argument', () => {
    const o = script(crlf('VRFY <user@example.test>', 'VRFY <>', 'VRFY'));
    assert.deepEqual(codes(o), [252, 252, 501]);
  });

  it('answers EXPN with 502', () => {
    assert.deepEqual(script(crlf('EXPN list')).lines.slice(1), ['502 EXPN not implemented']);
  });
});

describe('MAIL and RCPT', () => {
  it('requires HELO before MAIL, RCPT and DATA', () => {
    assert.deepEqual(script(crlf(...TX, 'DATA')).lines.slice(1), [
      '503 Error: send HELO first',
      '503 Error: send HELO first',
      '503 Error: send HELO first',
    ]);
  });

  it('requires MAIL before RCPT and RCPT before DATA, and refuses a nested MAIL', () => {
    const o = script(crlf('HELO x', 'RCPT TO:<b@x>', 'DATA', 'MAIL FROM:<a@x>', 'MAIL FROM:<c@x>', 'DATA'));
    assert.deepEqual(o.lines.slice(1), [
      '250 sink.test',
      '503 Error: need MAIL command',
      '503 Error: need RCPT command',
      '250 OK',
      '503 Error: nested MAIL command',
      '503 Error: need RCPT command',
    ]);
  });

  it('accepts the null sender <>', () => {
    const o = script(crlf(EHLO, 'MAIL FROM:<>', 'RCPT TO:<b@x>', 'DATA', 'hi', '.'));
    assert.equal(o.messages[0]!.mailFrom, '<>');
  });

  it('parses addresses with or without angle brackets and after spaces', () => {
    const o = script(crlf('HELO x', 'MAIL FROM: user@example.test', 'RCPT TO:   <b@example.test>', 'DATA', '.'));
    assert.deepEqual(codes(o), [250, 250, 250, 354, 250]);
    assert.equal(o.messages[0]!.mailFrom, 'user@example.test');
    assert.deepEqual(o.messages[0]!.rcptTos, ['b@example.test']);
  });

  it('answers a missing keyword or address with the syntax reply, extended after EHLO', () => {
    const helo = script(crlf('HELO x', 'MAIL <a@x>', 'MAIL FROM:', 'MAIL'));
    assert.deepEqual(helo.lines.slice(2), Array(3).fill('501 Syntax: MAIL FROM: <address>'));
    const ehlo = script(crlf(EHLO, 'MAIL FROM:<a@x>', 'RCPT <b@x>'));
    assert.deepEqual(ehlo.lines.at(-1), '501 Syntax: RCPT TO: <address> [SP <mail-parameters>]');
  });

  it('refuses parameters after HELO and parses them after EHLO', () => {
    assert.deepEqual(codes(script(crlf('HELO x', 'MAIL FROM:<a@x> SIZE=10'))), [250, 501]);
    const o = script(crlf(EHLO, 'MAIL FROM:<a@x> size=10 body=8bitmime', 'RCPT TO:<b@x>', 'DATA', 'x', '.'));
    assert.deepEqual(o.messages[0]!.mailOptions, ['SIZE=10', 'BODY=8BITMIME']);
  });

  it('answers SIZE over the limit with 552 and a non-numeric SIZE with 501', () => {
    const o = script(
      crlf(
        EHLO,
        'MAIL FROM:<a@x> SIZE=101',
        'MAIL FROM:<a@x> SIZE=ten',
        'MAIL FROM:<a@x> SIZE',
        'MAIL FROM:<a@x> SIZE=100',
      ),
      {
        dataSizeLimit: 100,
      },
    );
    assert.deepEqual(codes(o).slice(1), [552, 501, 501, 250]);
    assert.equal(o.lines.at(-4), '552 Error: message size exceeds fixed maximum message size');
  });

  it('accepts BODY=7BIT and 8BITMIME and refuses other bodies', () => {
    const o = script(
      crlf(EHLO, 'MAIL FROM:<a@x> BODY=BINARYMIME', 'MAIL FROM:<a@x> BODY', 'MAIL FROM:<a@x> BODY=7BIT'),
    );
    assert.deepEqual(o.lines.slice(-3), [
      '501 Error: BODY can only be one of 7BIT, 8BITMIME',
      '501 Error: BODY can only be one of 7BIT, 8BITMIME',
      '250 OK',
    ]);
  });

  it('takes SMTPUTF8 only when enabled, without a value', () => {
    const off = script(crlf(EHLO, 'MAIL FROM:<a@x> SMTPUTF8'));
    assert.equal(off.lines.at(-1), '555 MAIL FROM parameters not recognized or not implemented');
    const on = script(crlf(EHLO, 'MAIL FROM:<a@x> SMTPUTF8=yes', 'MAIL FROM:<a@x> SMTPUTF8'), { smtputf8: true });
    assert.deepEqual(on.lines.slice(-2), ['501 Error: SMTPUTF8 takes no arguments', '250 OK']);
  });

  it('answers unknown parameters with 555 and malformed ones with 501', () => {
    const o = script(
      crlf(
        EHLO,
        'MAIL FROM:<a@x> FOO=1',
        'MAIL FROM:<a@x> FOO=',
        'MAIL FROM:<a@x> F-O',
        'MAIL FROM:<a@x>',
        'RCPT TO:<b@x> NOTIFY=NEVER',
      ),
    );
    assert.deepEqual(codes(o).slice(1), [555, 501, 501, 250, 555]);
    assert.equal(o.lines.at(-1), '555 RCPT TO parameters not recognized or not implemented');
  });

  it('RSET ends the transaction but keeps the greeting', () => {
    assert.deepEqual(
      codes(script(crlf('HELO x', ...TX, 'RSET', 'RCPT TO:<b@x>', ...TX))),
      [250, 250, 250, 250, 503, 250, 250],
    );
  });
});

describe('command line length', () => {
  const pad = (prefix: string, length: number) => prefix + 'x'.repeat(length - prefix.length);

  it('accepts 512 bytes and refuses 513 with 500 line too long', () => {
    const o = script(crlf(pad('NOOP', 512).replace('NOOPx', 'NOOP '), pad('NOOP ', 513)));
    assert.deepEqual(o.lines.slice(1), ['501 Syntax: NOOP', '500 Error: line too long']);
  });

  it('gives MAIL 26 more bytes for SIZE after EHLO, and 10 more with SMTPUTF8', () => {
    const mail = (n: number) => `MAIL FROM:<a@x> SIZE=1 X=${'y'.repeat(n - 'MAIL FROM:<a@x> SIZE=1 X='.length)}`;
    assert.deepEqual(codes(script(crlf('HELO x', mail(513)))), [250, 500]);
    assert.deepEqual(codes(script(crlf(EHLO, mail(538), mail(539)))), [250, 555, 500]);
    assert.deepEqual(codes(script(crlf(EHLO, mail(548), mail(549)), { smtputf8: true })), [250, 555, 500]);
  });

  it('drops an overlong line without buffering it and carries on', () => {
    const ch = new SMTPChannel(CONFIG);
    ch.greet();
    for (let i = 0; i < 100; i++) ch.receive(Buffer.alloc(10_000, 0x41));
    assert.ok(ch.heldBytes <= 600, `held ${ch.heldBytes} bytes of an overlong line`);
    const replies = ch.receive(Buffer.from('\r\nNOOP\r\n'));
    assert.deepEqual(
      replies.map((a) => (a.kind === 'reply' ? a.reply.code : a.kind === 'refused' ? a.command : a.kind)),
      [500, '(line too long)', 250],
    );
  });

  it('ends a command line at a bare LF too, so nc and telnet users get answers', () => {
    assert.deepEqual(codes(script('HELO x\nNOOP\n')), [250, 250]);
  });
});

describe('DATA', () => {
  const tx = (...body: string[]) => crlf(EHLO, ...TX, 'DATA', ...body, '.');

  it('answers 354, then 250 after CRLF.CRLF, keeping the bytes with CRLF', () => {
    const o = script(tx('Subject: hi', '', 'body'));
    assert.deepEqual(codes(o).slice(-2), [354, 250]);
    assert.equal(o.lines.at(-2), '354 End data with <CR><LF>.<CR><LF>');
    assert.equal(o.messages[0]!.data.toString(), 'Subject: hi\r\n\r\nbody\r\n');
    assert.deepEqual(o.messages[0]!.rcptTos, ['b@example.test']);
    assert.equal(o.messages[0]!.helo, 'client.test');
  });

  it('removes the stuffed dot at the start of a line only', () => {
    const o = script(tx('..leading', '...', 'mid.dle', '. space'));
    assert.equal(o.messages[0]!.data.toString(), '.leading\r\n..\r\nmid.dle\r\n space\r\n');
  });

  it('accepts an empty message (smtpd hung on it)', () => {
    const o = script(tx());
    assert.equal(o.messages.length, 1);
    assert.equal(o.messages[0]!.data.length, 0);
  });

  it('keeps 8-bit and NUL bytes exactly', () => {
    const body = Buffer.from([0x00, 0xff, 0x80, 0xc3, 0xa9, 0x0d, 0x0a]);
    const o = script(Buffer.concat([Buffer.from(crlf(EHLO, ...TX, 'DATA')), body, Buffer.from('.\r\n')]));
    assert.deepEqual(o.messages[0]!.data, body);
  });

  it('ends only at CRLF.CRLF: bare LF and CR variants stay in the message', () => {
    for (const fake of ['\n.\n', '\r.\r', '\r\n.\n', '\n.\r\n', '\r\n.\r', '\n..\n']) {
      const o = script(crlf(EHLO, ...TX, 'DATA') + `a${fake}b` + '\r\n.\r\n');
      assert.equal(o.messages.length, 1, JSON.stringify(fake));
      // A dot right after CRLF starts a line and is unstuffed, as smtpd did.
      const kept = `a${fake}b\r\n`.replace('\r\n.', '\r\n');
      assert.equal(o.messages[0]!.data.toString('latin1'), kept, JSON.stringify(fake));
    }
  });

  it('answers 501 to DATA with an argument', () => {
    assert.deepEqual(codes(script(crlf(EHLO, ...TX, 'DATA now'))).at(-1), 501);
  });

  it('accepts a message of exactly the limit and answers 552 to one byte more, then takes new mail', () => {
    const limit = 20;
    const exact = 'x'.repeat(limit);
    assert.deepEqual(codes(script(tx(exact), { dataSizeLimit: limit })).at(-1), 250);
    const o = script(tx('x'.repeat(limit + 1)) + crlf('RCPT TO:<b@x>', ...TX, 'DATA', 'ok', '.'), {
      dataSizeLimit: limit,
    });
    assert.deepEqual(codes(o).slice(-6), [552, 503, 250, 250, 354, 250]);
    assert.equal(
      o.lines.find((l) => l.startsWith('552')),
      '552 Error: Too much mail data',
    );
    assert.equal(o.messages.length, 1);
  });

  it('stores at most the limit while a client sends far more', () => {
    const ch = new SMTPChannel({ ...CONFIG, dataSizeLimit: 1000 });
    ch.greet();
    ch.receive(Buffer.from(crlf(EHLO, ...TX, 'DATA')));
    const line = Buffer.from('y'.repeat(998) + '\r\n');
    for (let i = 0; i < 2000; i++) ch.receive(line);
    const end = ch.receive(Buffer.from('.\r\n'));
    assert.deepEqual(
      end.map((a) => (a.kind === 'reply' ? a.reply.code : a.kind === 'refused' ? a.command : a.kind)),
      [552, 'DATA'],
    );
  });

  it('counts the size as smtpd did: the bytes before CRLF.CRLF, stuffing included', () => {
    // '..' is 2 bytes on the wire: at limit 2 it fits, at limit 1 it does not.
    assert.deepEqual(codes(script(tx('..'), { dataSizeLimit: 2 })).at(-1), 250);
    assert.deepEqual(codes(script(tx('..'), { dataSizeLimit: 1 })).at(-1), 552);
  });

  it('takes two messages in one session and resets the transaction after each', () => {
    const o = script(tx('one') + crlf('DATA') + crlf(...TX, 'DATA', 'two', '.'));
    assert.deepEqual(
      o.messages.map((m) => m.data.toString()),
      ['one\r\n', 'two\r\n'],
    );
    assert.deepEqual(codes(o).slice(5, 6), [503]);
  });
});

describe('pipelining and the pause for the verdict', () => {
  it('handles a whole pipelined session in one chunk', () => {
    const o = script(crlf(EHLO, ...TX, 'DATA', 'a', '.', 'MAIL FROM:<c@x>', 'RCPT TO:<d@x>', 'DATA', 'b', '.', 'QUIT'));
    assert.deepEqual(codes(o), [250, 250, 250, 354, 250, 250, 250, 354, 250, 221]);
    assert.equal(o.messages.length, 2);
  });

  it('holds pipelined commands until the message is settled, then answers them in order', () => {
    const ch = new SMTPChannel(CONFIG);
    ch.greet();
    const first = ch.receive(Buffer.from(crlf(EHLO, ...TX, 'DATA', 'a', '.', 'NOOP', 'QUIT')));
    assert.equal(first.at(-1)!.kind, 'message');
    assert.equal(ch.stateName, 'awaiting-verdict');
    assert.deepEqual(ch.receive(Buffer.from(crlf('NOOP'))), []);
    const after = ch.settle(reply(550, 'No thanks'));
    assert.deepEqual(
      after.map((a) => (a.kind === 'reply' ? `${a.reply.code} ${a.reply.lines[0]}` : a.kind)),
      ['550 No thanks', '250 OK', '221 Bye', 'close'],
    );
  });

  it('sends the handler verdict as the reply to the end of data', () => {
    const o = script(crlf(EHLO, ...TX, 'DATA', 'x', '.'), {}, () => reply(451, 'later'));
    assert.equal(o.lines.at(-1), '451 later');
  });

  it('throws ChannelUsageError when settled with no message pending, but not after the peer left', () => {
    const ch = new SMTPChannel(CONFIG);
    assert.throws(() => ch.settle(), ChannelUsageError);
    ch.receive(Buffer.from(crlf(EHLO, ...TX, 'DATA', 'x', '.')));
    ch.eof();
    assert.deepEqual(ch.settle(), []);
  });

  it('drops a message cut off by EOF in DATA', () => {
    const ch = new SMTPChannel(CONFIG);
    const actions = ch.receive(Buffer.from(crlf(EHLO, ...TX, 'DATA', 'partial')));
    ch.eof();
    assert.ok(!actions.some((a) => a.kind === 'message'));
    assert.deepEqual(ch.receive(Buffer.from('.\r\n')), []);
  });

  it('exposes its state like smtpd instance variables', () => {
    const ch = new SMTPChannel(CONFIG);
    ch.receive(Buffer.from(crlf('HELO me', ...TX)));
    assert.equal(ch.seenGreeting, 'me');
    assert.equal(ch.mailFrom, 'a@example.test');
    assert.deepEqual(ch.rcptTos, ['b@example.test']);
    assert.equal(ch.stateName, 'command');
  });
});

describe('robustness', () => {
  it('never throws and only answers well-formed reply lines on random bytes', () => {
    const random = prng(42);
    const alphabet = Buffer.from('HELOEHLOMAILRCPTDATAQUIT FROM:TO:<>@.\r\n\r\n..\x00\xff=SIZE');
    for (let round = 0; round < 300; round++) {
      const input = Buffer.alloc(1 + Math.floor(random() * 400));
      for (let i = 0; i < input.length; i++)
        input[i] = random() < 0.8 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
      const o = feed([input]);
      for (const line of o.lines) assert.match(line, /^[2-5][0-9]{2}([ -][\x20-\x7e]*)?$/, `round ${round}`);
    }
  });
});

describe('limits', () => {
  it('answers 452 to recipients over maxRecipients and keeps the ones accepted', () => {
    const o = script(
      crlf(EHLO, 'MAIL FROM:<a@x>', 'RCPT TO:<1@x>', 'RCPT TO:<2@x>', 'RCPT TO:<3@x>', 'DATA', 'x', '.'),
      { maxRecipients: 2 },
    );
    assert.deepEqual(codes(o).slice(1), [250, 250, 250, 452, 354, 250]);
    assert.equal(
      o.lines.find((l) => l.startsWith('452')),
      '452 Error: too many recipients',
    );
    assert.deepEqual(o.messages[0]!.rcptTos, ['1@x', '2@x']);
  });

  it('answers the MAIL after maxMessagesPerConnection accepted messages with 421 and closes', () => {
    const one = crlf(...TX, 'DATA', 'x', '.');
    const o = script(crlf(EHLO) + one + one + one, { maxMessagesPerConnection: 2 });
    assert.equal(o.messages.length, 2);
    assert.equal(o.lines.at(-1), '421 sink.test Error: too many messages in this connection');
    assert.equal(o.closed, true);
  });

  it('does not count refused messages against maxMessagesPerConnection', () => {
    const one = crlf(...TX, 'DATA', 'x', '.');
    const o = script(crlf(EHLO) + one + one, { maxMessagesPerConnection: 1 }, () => reply(451, 'not now'));
    assert.deepEqual(codes(o).slice(-2), [354, 451]);
  });
});

describe('bare line endings in DATA', () => {
  const withBare = crlf(EHLO, ...TX, 'DATA') + 'a\nb\rc\r\n.\r\n';

  it('accepts them by default and counts them in the message', () => {
    const o = script(withBare);
    assert.deepEqual(o.messages[0]!.bareLineEndings, { cr: 1, lf: 1 });
    assert.deepEqual(script(crlf(EHLO, ...TX, 'DATA', 'clean', '.')).messages[0]!.bareLineEndings, { cr: 0, lf: 0 });
  });

  it('rejects them with 550 when asked to, and the session goes on', () => {
    const o = script(withBare + crlf(...TX, 'DATA', 'clean', '.'), { bareLf: 'reject' });
    assert.equal(
      o.lines.find((l) => l.startsWith('550')),
      '550 Error: bare CR or LF in message data; lines must end with CRLF (RFC 5321 2.3.8)',
    );
    assert.deepEqual(
      o.messages.map((m) => m.data.toString()),
      ['clean\r\n'],
    );
  });

  it('never lets a smuggled end of data start a second message', () => {
    for (const fake of ['\n.\n', '\r.\r', '\r\n.\n', '\n.\r\n', '\r\n.\r']) {
      const smuggled = `${fake}MAIL FROM:<evil@x>\r\nRCPT TO:<victim@x>\r\nDATA\r\nforged\r\n`;
      const o = script(crlf(EHLO, ...TX, 'DATA') + `real${smuggled}` + '.\r\n');
      assert.equal(o.messages.length, 1, JSON.stringify(fake));
      assert.deepEqual(codes(o).slice(-1), [250]);
    }
  });
});

describe('refusals', () => {
  it('are reported after each 4xx or 5xx reply, naming what was refused', () => {
    const o = script(
      crlf(EHLO, 'MAIL FROM:<a@x> SIZE=99999', 'RCPT TO:<b@y>', 'MAIL FROM:<a@x>', 'RCPT TO:<b@y>', 'BOGUS x', 'DATA') +
        'y'.repeat(200) +
        '\r\n.\r\nNOOP\r\n',
      { dataSizeLimit: 100 },
    );
    assert.deepEqual(o.refused, ['MAIL 552', 'RCPT 503', 'BOGUS 500', 'DATA 552']);
  });

  it('leave out scripted replies and the handler verdict', () => {
    const rules = [parseRule('RCPT~c@=550 5.1.1 No such user')];
    const engine = () => ({ replyRule: new RuleEngine(rules, 1).hook });
    const input = crlf(EHLO, ...TX, 'RCPT TO:<c@example.test>', 'DATA', 'x', '.');
    const o = script(input, engine, () => reply(451, 'not now'));
    assert.ok(o.lines.some((l) => l.startsWith('550')) && o.lines.some((l) => l.startsWith('451')));
    assert.deepEqual(o.refused, []);
  });
});

describe('refusals and EOD rules', () => {
  it('report a 552 after an EOD rule that only delays, and not a reply an EOD rule wrote', () => {
    const delayOnly = () => ({ replyRule: new RuleEngine([parseRule('EOD=delay:10ms')], 1).hook });
    const big = crlf(EHLO, ...TX, 'DATA') + 'y'.repeat(200) + '\r\n.\r\n';
    assert.deepEqual(script(big, { ...delayOnly(), dataSizeLimit: 100 }).refused, ['DATA 552']);
    const refusing = () => ({ replyRule: new RuleEngine([parseRule('EOD=554 5.7.1 scripted')], 1).hook });
    const o = script(crlf(EHLO, ...TX, 'DATA', 'x', '.'), refusing);
    assert.ok(o.lines.some((l) => l.startsWith('554')));
    assert.deepEqual(o.refused, []);
  });
});
