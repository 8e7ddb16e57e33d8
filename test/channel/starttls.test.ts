import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMTPChannel } from '../../src/channel/channel.js';
import { CONFIG, codes, crlf, HANDSHAKE, script, TEST_TLS } from '../helpers/byte-script.js';
import { ChannelUsageError } from '../../src/errors.js';

const TLS = { starttls: true };
const TX = ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA', 'Subject: hi', '', 'body', '.'];

describe('STARTTLS (RFC 3207)', () => {
  it('is advertised after EHLO only when configured, and unknown otherwise, as in smtpd', () => {
    assert.ok(script(crlf('EHLO x'), TLS).lines.includes('250-STARTTLS'));
    assert.ok(!script(crlf('EHLO x')).lines.includes('250-STARTTLS'));
    assert.deepEqual(script(crlf('EHLO x', 'STARTTLS')).lines.slice(-1), [
      '500 Error: command "STARTTLS" not recognized',
    ]);
  });

  it('is unknown before EHLO and after HELO, where extensions are not announced', () => {
    assert.deepEqual(codes(script(crlf('STARTTLS', 'HELO x', 'STARTTLS'), TLS)), [500, 250, 500]);
  });

  it('answers 220, asks for the handshake, and starts a new session after it', () => {
    const o = script(
      ['EHLO x\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n', HANDSHAKE, crlf('MAIL FROM:<a@b>', 'EHLO x', ...TX)],
      TLS,
    );
    assert.equal(o.starttls, 1);
    assert.ok(o.lines.includes('220 Ready to start TLS'));
    // The greeting and the transaction are forgotten: MAIL needs a new EHLO.
    assert.ok(o.lines.includes('503 Error: send HELO first'));
    assert.equal(o.messages.length, 1);
    assert.deepEqual(o.messages[0]!.tls, TEST_TLS);
    assert.equal(o.lines.filter((l) => l.endsWith('STARTTLS')).length, 1, 'STARTTLS is not offered again over TLS');
  });

  it('drops commands pipelined after STARTTLS before the handshake (CVE-2011-0411)', () => {
    const injected = 'EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@x>\r\n';
    const o = script([injected, HANDSHAKE, crlf('EHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA', 'x', '.')], TLS);
    assert.equal(o.messages.length, 1);
    assert.equal(o.messages[0]!.mailFrom, 'a@b');
    assert.deepEqual(o.messages[0]!.rcptTos, ['c@d']);
    // Nothing answered the injected commands: STARTTLS's 220, then the EHLO after the handshake.
    const i = o.lines.indexOf('220 Ready to start TLS');
    assert.match(o.lines[i + 1]!, /^250-sink\.test$/);
  });

  it('refuses STARTTLS with an argument, and a second STARTTLS over TLS', () => {
    const o = script(['EHLO x\r\nSTARTTLS now\r\nSTARTTLS\r\n', HANDSHAKE, crlf('EHLO x', 'STARTTLS')], TLS);
    assert.deepEqual(codes(o), [250, 501, 220, 250, 503]);
  });

  it('answers 530 to MAIL before STARTTLS with requireTls', () => {
    const o = script(['EHLO x\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n', HANDSHAKE, crlf('EHLO x', 'MAIL FROM:<a@b>')], {
      ...TLS,
      requireTls: true,
    });
    assert.deepEqual(codes(o), [250, 530, 220, 250, 250]);
  });

  it('takes implicit TLS before the greeting, and refuses tlsEstablished() at any other time', () => {
    const ch = new SMTPChannel({ ...CONFIG, starttls: false });
    assert.deepEqual(ch.tlsEstablished(TEST_TLS), []);
    ch.greet();
    assert.equal(ch.tls, TEST_TLS);
    assert.throws(() => ch.tlsEstablished(TEST_TLS), ChannelUsageError);
  });
});
