import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insertXPeer } from '../../src/relay/x-peer.js';

const peer = (text: string) => insertXPeer(Buffer.from(text, 'latin1'), '192.0.2.1').toString('latin1');

describe('X-Peer, as PureProxy inserts it', () => {
  it('goes before the first empty line, at the end of the header block', () => {
    assert.equal(
      peer('Subject: a\r\nTo: b\r\n\r\nbody\r\n\r\nmore\r\n'),
      'Subject: a\r\nTo: b\r\nX-Peer: 192.0.2.1\r\n\r\nbody\r\n\r\nmore\r\n',
    );
  });

  it('goes first when the message starts with an empty line, and last when it has none', () => {
    assert.equal(peer('\r\nbody\r\n'), 'X-Peer: 192.0.2.1\r\n\r\nbody\r\n');
    assert.equal(peer('Subject: a\r\n'), 'Subject: a\r\nX-Peer: 192.0.2.1\r\n');
    assert.equal(peer(''), 'X-Peer: 192.0.2.1\r\n');
  });

  it('finds the end of a header block written with bare LFs, as the lint does', () => {
    assert.equal(peer('Subject: a\nTo: b\n\nbody\n'), 'Subject: a\nTo: b\nX-Peer: 192.0.2.1\r\n\nbody\n');
    assert.equal(peer('Subject: a\n\r\nbody\r\n'), 'Subject: a\nX-Peer: 192.0.2.1\r\n\r\nbody\r\n');
    assert.equal(peer('\nbody\n'), 'X-Peer: 192.0.2.1\r\n\nbody\n');
  });

  it('leaves every other byte alone: 8-bit, lines that start with a dot, bare LFs', () => {
    const body = 'Subject: \xe9\r\n\r\n.\r\n..x\r\nbare\nlf\r\n\xff\r\n';
    assert.equal(peer(body), body.replace('\r\n\r\n', '\r\nX-Peer: 192.0.2.1\r\n\r\n'));
  });
});
