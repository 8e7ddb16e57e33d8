import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Maildir, maildirContent, maildirHostname } from '../../src/outputs/maildir.js';
import { makeMessage } from '../helpers/message.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('the Maildir', () => {
  const tmp = tempDir('maildir');

  it('creates tmp/, new/ and cur/, private to the user, and opening twice is fine', async () => {
    const md = new Maildir(tmp.join('a', 'Maildir'));
    await md.open();
    await md.open();
    assert.deepEqual((await readdir(md.dir)).sort(), ['cur', 'new', 'tmp']);
    assert.equal((await stat(path.join(md.dir, 'new'))).mode & 0o777, 0o700);
  });

  it('delivers into new/ under a unique name from time, pid, counter and host, leaving tmp/ empty', async () => {
    const md = new Maildir(tmp.join('b'), 'host.example');
    await md.open();
    const first = await md.save(makeMessage('Subject: one\n\nbody\n'));
    const second = await md.save(makeMessage('Subject: ../../etc/passwd\n\nbody\n'));
    assert.equal(path.dirname(first), path.join(md.dir, 'new'));
    assert.match(path.basename(first), new RegExp(`^\\d+\\.M\\d+P${process.pid}Q1\\.host\\.example$`));
    assert.match(path.basename(second), new RegExp(`Q2\\.host\\.example$`));
    assert.deepEqual(await readdir(path.join(md.dir, 'tmp')), []);
    assert.equal((await readdir(path.join(md.dir, 'new'))).length, 2);
    assert.equal((await stat(first)).mode & 0o777, 0o600);
  });

  it('stores the envelope as aiosmtpd does, then the message with LF line endings, bytes otherwise kept', async () => {
    const m = makeMessage(Buffer.from('Subject: caf\xe9\r\n\r\nline\rwith CR\r\n', 'latin1'), {
      rcptTos: ['a@x', 'b@x'],
    });
    const content = maildirContent(m);
    assert.deepEqual(
      content,
      Buffer.concat([
        Buffer.from('X-Peer: 127.0.0.1\nX-MailFrom: sender@example.com\nX-RcptTo: a@x, b@x\n'),
        Buffer.from('Subject: caf\xe9\n\nline\rwith CR\n', 'latin1'),
      ]),
    );
    const md = new Maildir(tmp.join('c'));
    await md.open();
    assert.deepEqual(await readFile(await md.save(m)), content);
  });

  it('writes a large message in pieces, each line ending converted, byte for byte the same as one piece', async () => {
    // Lines of every length around the 1 MiB write size, and one line longer than it.
    const lines = [...Array.from({ length: 3000 }, (_, i) => 'x'.repeat(i % 997)), 'y'.repeat(3 << 20), '', 'end'];
    const m = makeMessage(Buffer.from(`Subject: big\r\n\r\n${lines.join('\r\n')}\r\n`));
    const md = new Maildir(tmp.join('big'));
    await md.open();
    assert.ok((await readFile(await md.save(m))).equals(maildirContent(m)));
  });

  it('writes / and : in the host name as \\057 and \\072', () => {
    assert.equal(maildirHostname('a/b:c'), 'a\\057b\\072c');
  });

  it('rejects, without hanging, where a folder cannot be made though its parent exists (/proc)', async (t) => {
    if (!(await stat('/proc/self').catch(() => undefined))) return t.skip('no /proc here');
    await assert.rejects(new Maildir('/proc/no-such-maildir').open(), { code: 'ENOENT' });
  });

  it('rejects when the Maildir has gone', async () => {
    const md = new Maildir(tmp.join('gone'));
    await md.open();
    await rm(md.dir, { recursive: true });
    await assert.rejects(md.save(makeMessage('x\n')), { code: 'ENOENT' });
  });
});
