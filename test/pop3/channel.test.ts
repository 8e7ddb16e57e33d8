/**
 * The POP3 channel by byte scripts: what it answers, and what it asks the
 * server for, with no sockets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dotStuffed, MAX_POP3_LINE, Pop3Channel, type Pop3Output } from '../../src/pop3/channel.js';

const text = (out: Pop3Output) => Buffer.concat(out.replies).toString('latin1');
const drop = [
  { uid: 'id-1', size: 10 },
  { uid: 'id-2', size: 20 },
];

/** A channel logged in as alice with `drop`. */
function loggedIn(): Pop3Channel {
  const c = new Pop3Channel({ tls: false, plainAuth: true });
  const asked = c.receive(Buffer.from('USER alice\r\nPASS s3cret pass\r\n'));
  assert.equal(text(asked), '+OK send PASS\r\n');
  assert.deepEqual(asked.request, { kind: 'login', user: 'alice', password: 's3cret pass' });
  assert.match(text(c.resume(drop)), /^\+OK alice's maildrop has 2 messages\r\n$/);
  return c;
}

describe('the POP3 channel', () => {
  it('greets, lists its capabilities, and offers STLS and USER only where they may be used', () => {
    const clear = new Pop3Channel({ tls: true, plainAuth: false });
    assert.equal(clear.greet().toString(), '+OK smtpd-ts POP3 ready\r\n');
    const caps = text(clear.receive(Buffer.from('CAPA\r\n')));
    assert.match(caps, /^\+OK capabilities follow\r\nTOP\r\nUIDL\r\n[\s\S]*STLS\r\n\.\r\n$/);
    assert.doesNotMatch(caps, /USER/);
    assert.match(text(clear.receive(Buffer.from('USER alice\r\n'))), /^-ERR \[AUTH\] .*STLS first/);
    const out = clear.receive(Buffer.from('STLS\r\n'));
    assert.equal(text(out), '+OK begin TLS negotiation\r\n');
    assert.deepEqual(out.request, { kind: 'starttls' });
    clear.resume(undefined);
    assert.match(text(clear.receive(Buffer.from('CAPA\r\n'))), /USER\r\n/);
    assert.doesNotMatch(text(clear.receive(Buffer.from('CAPA\r\n'))), /STLS/);
    assert.equal(text(clear.receive(Buffer.from('USER alice\r\n'))), '+OK send PASS\r\n');
  });

  it('refuses a wrong password and transaction commands before login', () => {
    const c = new Pop3Channel({ tls: false, plainAuth: true });
    assert.match(text(c.receive(Buffer.from('STAT\r\n'))), /^-ERR not in this state/);
    assert.match(text(c.receive(Buffer.from('PASS x\r\n'))), /^-ERR USER first/);
    c.receive(Buffer.from('USER alice\r\nPASS wrong\r\n'));
    assert.match(text(c.resume(null)), /^-ERR \[AUTH\] wrong user name or password/);
    assert.match(text(c.receive(Buffer.from('STAT\r\n'))), /^-ERR/);
  });

  it('answers STAT, LIST, UIDL, and RETR and TOP through the server', () => {
    const c = loggedIn();
    assert.equal(text(c.receive(Buffer.from('STAT\r\n'))), '+OK 2 30\r\n');
    assert.equal(text(c.receive(Buffer.from('LIST\r\n'))), '+OK 2 messages\r\n1 10\r\n2 20\r\n.\r\n');
    assert.equal(text(c.receive(Buffer.from('UIDL 2\r\n'))), '+OK 2 id-2\r\n');
    assert.match(text(c.receive(Buffer.from('LIST 3\r\n'))), /^-ERR no message 3/);
    const retr = c.receive(Buffer.from('RETR 1\r\n'));
    assert.deepEqual(retr.request, { kind: 'retrieve', uid: 'id-1', lines: null });
    assert.equal(
      text(c.resume(Buffer.from('A: b\r\n\r\n.dot\r\nend'))),
      '+OK 17 octets\r\nA: b\r\n\r\n..dot\r\nend\r\n.\r\n',
    );
    const top = c.receive(Buffer.from('TOP 2 1\r\n'));
    assert.deepEqual(top.request, { kind: 'retrieve', uid: 'id-2', lines: 1 });
    assert.equal(
      text(c.resume(Buffer.from('A: b\r\n\r\none\r\ntwo\r\n'))),
      '+OK top of message follows\r\nA: b\r\n\r\none\r\n.\r\n',
    );
  });

  it('deletes at QUIT only, RSET undoes, and a deleted message is gone from the listing', () => {
    const c = loggedIn();
    assert.equal(text(c.receive(Buffer.from('DELE 1\r\n'))), '+OK message 1 deleted\r\n');
    assert.match(text(c.receive(Buffer.from('RETR 1\r\n'))), /^-ERR message 1 is deleted/);
    assert.equal(text(c.receive(Buffer.from('STAT\r\n'))), '+OK 1 20\r\n');
    c.receive(Buffer.from('RSET\r\n'));
    assert.equal(text(c.receive(Buffer.from('STAT\r\n'))), '+OK 2 30\r\n');
    c.receive(Buffer.from('DELE 2\r\n'));
    const quit = c.receive(Buffer.from('QUIT\r\n'));
    assert.deepEqual(quit.request, { kind: 'update', deleted: ['id-2'] });
    const bye = c.resume(undefined);
    assert.equal(text(bye), '+OK bye\r\n');
    assert.deepEqual(bye.request, { kind: 'close' });
  });

  it('reads pipelined commands after a request is answered, and takes commands a byte at a time', () => {
    const c = loggedIn();
    const out = c.receive(Buffer.from('RETR 1\r\nSTAT\r\nNOOP\r\n'));
    assert.equal(text(out), '', 'STAT waits for RETR');
    assert.match(text(c.resume(Buffer.from('x\r\n'))), /^\+OK 3 octets\r\nx\r\n\.\r\n\+OK 2 30\r\n\+OK \r\n$/);
    let said = '';
    for (const byte of Buffer.from('STAT\r\n')) said += text(c.receive(Buffer.from([byte])));
    assert.equal(said, '+OK 2 30\r\n');
  });

  it('refuses a line over the limit without holding it, and closes after too many errors', () => {
    const c = new Pop3Channel({ tls: false, plainAuth: true });
    assert.match(text(c.receive(Buffer.alloc(MAX_POP3_LINE + 10, 0x41))), /^-ERR line too long/);
    assert.match(text(c.receive(Buffer.from('\r\nCAPA\r\n'))), /\+OK capabilities/);
    let last: Pop3Output = { replies: [], request: null };
    for (let i = 0; i < 30 && last.request?.kind !== 'close'; i++) last = c.receive(Buffer.from('BOGUS\r\n'));
    assert.deepEqual(last.request, { kind: 'close' });
    assert.match(text(last), /too many errors/);
  });

  it('dot-stuffs a message: lines with a leading dot, bare LFs, a missing last line end', () => {
    assert.equal(dotStuffed(Buffer.from('.a\n..b\r\nc')).toString(), '..a\r\n...b\r\nc\r\n.\r\n');
    assert.equal(dotStuffed(Buffer.from('H: 1\r\n\r\nl1\r\nl2\r\n'), 0).toString(), 'H: 1\r\n\r\n.\r\n');
  });
});
