import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProxyPreamble } from '../../src/server/proxy-protocol.js';

describe('ProxyPreamble', () => {
  it('collects a header split across chunks and hands back the bytes after it', () => {
    const preamble = new ProxyPreamble();
    const bytes = Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO x\r\n');
    for (let i = 0; i < 10; i++) assert.equal(preamble.push(bytes.subarray(i, i + 1)), null);
    const read = preamble.push(bytes.subarray(10));
    assert.ok(read && read.header.kind === 'header');
    assert.deepEqual(read.header.source, { address: '192.0.2.7', port: 40000 });
    assert.equal(read.rest.toString(), 'EHLO x\r\n');
  });

  it('says why a header is invalid, with nothing after it', () => {
    const read = new ProxyPreamble().push(Buffer.from('EHLO x\r\n'));
    assert.deepEqual(read, { header: { kind: 'invalid', reason: 'no PROXY protocol header' }, rest: Buffer.alloc(0) });
  });
});
