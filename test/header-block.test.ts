import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { headerSection } from '../src/channel/rule-hook.js';
import { headerBlockEnd } from '../src/header-block.js';
import { scanHeaders } from '../src/lint/header-scan.js';
import { insertXPeer } from '../src/relay/x-peer.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('the end of a header block', () => {
  it('is the first empty line, ended by CRLF or a bare LF', () => {
    assert.deepEqual(headerBlockEnd(b('A: 1\r\nB: 2\r\n\r\nbody\r\n')), { end: 12, bodyStart: 14 });
    assert.deepEqual(headerBlockEnd(b('A: 1\n\nbody\n')), { end: 5, bodyStart: 6 });
    assert.deepEqual(headerBlockEnd(b('A: 1\n\r\nbody')), { end: 5, bodyStart: 7 });
    assert.deepEqual(headerBlockEnd(b('\r\nbody')), { end: 0, bodyStart: 2 });
    assert.equal(headerBlockEnd(b('A: 1\r\nB: 2\r\n')), null);
    assert.equal(headerBlockEnd(b('A: 1\rB: 2\r\r\n')), null, 'a bare CR ends no line');
    assert.equal(headerBlockEnd(b('')), null);
  });

  it('is where the lint, the EOD rules and X-Peer all find it', () => {
    const line = fc.constantFrom('A: 1', 'B:\t2', ' folded', '', '\r', 'x\ry', '');
    const ending = fc.constantFrom('\r\n', '\n', '');
    const text = fc
      .array(
        fc.tuple(line, ending).map(([l, e]) => l + e),
        { maxLength: 8 },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(text, (t) => {
        const data = b(t);
        const block = headerBlockEnd(data);
        const end = block ? block.end : data.length;
        assert.equal(headerSection(data), t.slice(0, end));
        if (block) assert.equal(scanHeaders(data).bodyStart, block.bodyStart);
        const withPeer = insertXPeer(data, '192.0.2.1').toString('latin1');
        assert.equal(withPeer.indexOf('X-Peer: 192.0.2.1\r\n'), block ? end : withPeer.length - 19);
      }),
      { numRuns: 2000 },
    );
  });
});
