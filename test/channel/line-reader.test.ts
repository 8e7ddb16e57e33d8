import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader } from '../../src/channel/line-reader.js';

/** A 64 KiB chunk as a socket read gives it, holding `text` at its start. */
function chunk(text: string): Buffer {
  const backing = Buffer.allocUnsafeSlow(64 * 1024);
  return backing.subarray(0, backing.write(text));
}

describe('the line reader', () => {
  it('splits lines at LF, dropping one CR, and holds a partial line', () => {
    const r = new LineReader(512);
    r.push(Buffer.from('EHLO a\r\nNOOP\nMA'));
    assert.deepEqual(r.next(), { kind: 'line', bytes: Buffer.from('EHLO a') });
    assert.deepEqual(r.next(), { kind: 'line', bytes: Buffer.from('NOOP') });
    assert.equal(r.next(), undefined);
    r.push(Buffer.from('IL FROM:<a@b>\r\n'));
    assert.deepEqual(r.next(), { kind: 'line', bytes: Buffer.from('MAIL FROM:<a@b>') });
  });

  it('keeps no view of a received chunk once its lines are read, so an idle connection holds no chunk', () => {
    const r = new LineReader(512);
    const whole = chunk('EHLO client.test\r\n');
    r.push(whole);
    r.next();
    assert.notEqual(r.take().buffer, whole.buffer, 'an empty view would keep 64 KiB alive');
    const partial = chunk('NOOP\r\nQU');
    r.push(partial);
    r.next();
    const held = r.take();
    assert.equal(held.toString(), 'QU');
    assert.notEqual(held.buffer, partial.buffer, 'two bytes are copied, not kept as a view of 64 KiB');
  });
});
