import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkCredentials, HIDDEN_AFTER_REFUSED_AUTH, parseUsers } from '../../src/channel/auth.js';
import { SMTPChannel } from '../../src/channel/channel.js';
import { CONFIG, codes, crlf, HANDSHAKE, script } from '../helpers/byte-script.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ANY = { auth: { insecure: true } };
const USERS = { auth: { insecure: true, users: new Map([['alice', 's3cret']]) } };
const TX = ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA', 'x', '.'];
const CHALLENGE = '<smtpd-ts@sink.test>';

describe('AUTH (RFC 4954)', () => {
  it('is advertised with PLAIN, LOGIN and CRAM-MD5 when allowed in the clear', () => {
    assert.ok(script(crlf('EHLO x'), ANY).lines.includes('250-AUTH PLAIN LOGIN CRAM-MD5'));
    assert.ok(!script(crlf('EHLO x')).lines.some((l) => l.includes('AUTH')));
  });

  it('is offered only after TLS otherwise: 538 in the clear, then AUTH after the handshake', () => {
    const config = { starttls: true, auth: {} };
    const o = script(
      [
        crlf('EHLO x', `AUTH PLAIN ${b64('\0u\0p')}`, 'STARTTLS'),
        HANDSHAKE,
        crlf('EHLO x', `AUTH PLAIN ${b64('\0u\0p')}`),
      ],
      config,
    );
    assert.ok(!o.lines.slice(0, 8).some((l) => l.includes('AUTH')));
    assert.deepEqual(codes(o), [250, 538, 220, 250, 235]);
    assert.ok(o.lines.includes('250-AUTH PLAIN LOGIN CRAM-MD5'));
  });

  it('is unknown before EHLO and after HELO, as in smtpd', () => {
    assert.deepEqual(codes(script(crlf('AUTH PLAIN', 'HELO x', 'AUTH PLAIN'), ANY)), [500, 250, 500]);
  });

  it('accepts any credentials by default and records the user name, never the password', () => {
    const o = script(crlf('EHLO x', `AUTH PLAIN ${b64('\0bob\0whatever')}`, ...TX), ANY);
    assert.deepEqual(codes(o).slice(0, 2), [250, 235]);
    assert.equal(o.messages[0]!.authUser, 'bob');
    assert.ok(!JSON.stringify(o.messages[0]).includes('whatever'));
  });

  it('runs PLAIN with an empty challenge, LOGIN with two prompts, and CRAM-MD5', () => {
    const plain = script(crlf('EHLO x', 'AUTH PLAIN', b64('\0alice\0s3cret')), USERS);
    assert.deepEqual(plain.lines.slice(-2), ['334', '235 Authentication successful']);
    const login = script(crlf('EHLO x', 'AUTH LOGIN', b64('alice'), b64('s3cret')), USERS);
    assert.deepEqual(login.lines.slice(-3), ['334 VXNlcm5hbWU6', '334 UGFzc3dvcmQ6', '235 Authentication successful']);
    const loginInitial = script(crlf('EHLO x', `AUTH LOGIN ${b64('alice')}`, b64('s3cret')), USERS);
    assert.deepEqual(codes(loginInitial), [250, 334, 235]);
    const digest = createHmac('md5', 's3cret').update(CHALLENGE).digest('hex');
    const cram = script(crlf('EHLO x', 'AUTH CRAM-MD5', b64(`alice ${digest}`)), USERS);
    assert.deepEqual(cram.lines.slice(-2), [`334 ${b64(CHALLENGE)}`, '235 Authentication successful']);
  });

  it('answers 535 to wrong credentials with a user file, and lets the client try again', () => {
    const o = script(
      crlf(
        'EHLO x',
        `AUTH PLAIN ${b64('\0alice\0wrong')}`,
        'AUTH LOGIN',
        b64('eve'),
        b64('s3cret'),
        'AUTH CRAM-MD5',
        b64('alice 00'),
        `AUTH PLAIN ${b64('\0alice\0s3cret')}`,
      ),
      USERS,
    );
    assert.deepEqual(codes(o), [250, 535, 334, 334, 535, 334, 535, 235]);
  });

  it('answers 530 to MAIL without AUTH when required', () => {
    const o = script(crlf('EHLO x', 'MAIL FROM:<a@b>', `AUTH PLAIN ${b64('\0u\0p')}`, 'MAIL FROM:<a@b>'), {
      auth: { insecure: true, required: true },
    });
    assert.deepEqual(codes(o), [250, 530, 235, 250]);
  });

  it('handles cancel, bad base64, unknown mechanisms, a second AUTH and AUTH inside a transaction', () => {
    const o = script(
      crlf(
        'EHLO x',
        'AUTH LOGIN',
        '*',
        'AUTH PLAIN',
        '!!!',
        'AUTH PLAIN @@',
        'AUTH GSSAPI',
        'AUTH',
        `AUTH PLAIN ${b64('no-nul')}`,
        'MAIL FROM:<a@b>',
        `AUTH PLAIN ${b64('\0u\0p')}`,
        'RSET',
        `AUTH PLAIN ${b64('\0u\0p')}`,
        `AUTH PLAIN ${b64('\0u\0p')}`,
      ),
      ANY,
    );
    assert.deepEqual(codes(o), [250, 334, 501, 334, 501, 501, 504, 501, 501, 250, 503, 250, 235, 503]);
  });

  it('hides credentials from the protocol trace', () => {
    const ch = new SMTPChannel({ ...CONFIG, ...ANY, trace: true });
    const lines: string[] = [];
    const actions = ch.receive(
      Buffer.from(crlf('EHLO x', 'AUTH LOGIN', b64('u'), b64('pw'), `AUTH PLAIN ${b64('\0u\0pw')}`)),
    );
    for (const a of actions) if (a.kind === 'trace') lines.push(a.line);
    assert.deepEqual(lines, [
      'EHLO x',
      'AUTH LOGIN',
      '[AUTH response hidden]',
      '[AUTH response hidden]',
      'AUTH PLAIN [initial response hidden]',
    ]);
  });

  it('checks credentials with a pure function and parses user files', () => {
    const users = parseUsers('# users\nalice:s3cret\n\nbob:pa:ss\n');
    assert.deepEqual(
      [...users],
      [
        ['alice', 's3cret'],
        ['bob', 'pa:ss'],
      ],
    );
    assert.equal(checkCredentials(users, { mechanism: 'PLAIN', user: 'bob', password: 'pa:ss' }), true);
    assert.equal(checkCredentials(users, { mechanism: 'LOGIN', user: 'bob', password: 'pa' }), false);
    assert.equal(checkCredentials(null, { mechanism: 'LOGIN', user: 'x', password: 'y' }), true);
    assert.throws(() => parseUsers('nocolon\n'), /line 1/);
    assert.deepEqual([...parseUsers('\ufeffalice:pw\r\n')], [['alice', 'pw']]);
  });

  it('hides credentials sent with tabs, and lines sent after a refused AUTH, from the trace and the 500 echo', () => {
    const secret = b64('\0u\0hunter2');
    const ch = new SMTPChannel({ ...CONFIG, ...ANY, trace: true });
    const actions = ch.receive(
      Buffer.from(
        crlf(
          'EHLO x',
          `AUTH\tPLAIN\t${secret}`,
          'MAIL FROM:<a@b>',
          'AUTH LOGIN',
          b64('user'),
          b64('hunter2'),
          'RSET',
          b64('not-hidden-after-a-command'),
        ),
      ),
    );
    const traced = actions.flatMap((a) => (a.kind === 'trace' ? [a.line] : []));
    const replies = actions.flatMap((a) => (a.kind === 'reply' ? [a.reply.lines.join(' ')] : []));
    assert.deepEqual(traced, [
      'EHLO x',
      'AUTH PLAIN [initial response hidden]',
      'MAIL FROM:<a@b>',
      'AUTH LOGIN',
      HIDDEN_AFTER_REFUSED_AUTH,
      HIDDEN_AFTER_REFUSED_AUTH,
      'RSET',
      b64('not-hidden-after-a-command'),
    ]);
    const refused = actions.flatMap((a) => (a.kind === 'refused' ? [a.command] : []));
    const notHidden = `${b64('not-hidden-after-a-command').toUpperCase().slice(0, 16)}...`;
    assert.deepEqual(refused, ['AUTH', 'AUTH', '(hidden)', '(hidden)', notHidden]);
    // Case-blind: an upper-cased echo of a base64 credential still gives it away.
    for (const text of [...traced, ...replies, ...refused].map((t) => t.toUpperCase()))
      assert.ok(!text.includes(secret.toUpperCase()) && !text.includes(b64('hunter2').toUpperCase()), text);
  });
});
