import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reply } from '../../src/channel/reply.js';
import { crlf, script } from '../helpers/byte-script.js';

const DENIED = reply(550, 'Error: relay access denied');
/** A pure policy, as the relay's: only example.test is accepted. */
const acceptRecipient = (address: string) => (address.endsWith('@example.test') ? undefined : DENIED);

describe('the RCPT policy (acceptRecipient)', () => {
  it('refuses the recipients it answers for, accepts the others, and the message goes to the accepted only', () => {
    const o = script(
      crlf(
        'EHLO c.test',
        'MAIL FROM:<s@x.test>',
        'RCPT TO:<a@example.test>',
        'RCPT TO:<b@elsewhere.test>',
        'DATA',
        'hi',
        '.',
        'QUIT',
      ),
      { acceptRecipient },
    );
    assert.deepEqual(
      o.lines.filter((l) => /^(250 OK|550)/.test(l)),
      ['250 OK', '250 OK', '550 Error: relay access denied', '250 OK'],
    );
    assert.deepEqual(
      o.messages.map((m) => m.rcptTos),
      [['a@example.test']],
    );
  });

  it('is asked only about well-formed recipients, after the syntax and parameter checks', () => {
    const asked: string[] = [];
    const o = script(
      crlf('EHLO c.test', 'MAIL FROM:<s@x.test>', 'RCPT TO:', 'RCPT TO:<a@example.test> FOO=1', 'RCPT TO:<z@zz.test>'),
      {
        acceptRecipient: (a) => {
          asked.push(a);
          return DENIED;
        },
      },
    );
    assert.deepEqual(
      o.lines.slice(-3).map((l) => l.slice(0, 3)),
      ['501', '555', '550'],
    );
    // Every run of the script (whole, byte by byte, random splits) asks once.
    assert.ok(asked.every((a) => a === 'z@zz.test'));
  });
});
