import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { StreamDestination } from '../../src/outputs/stream-destination.js';

/** A stream that records each write call, calling back after `delayMs`. */
function recorder(delayMs = 0, fail?: NodeJS.ErrnoException) {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      setTimeout(() => callback(fail), delayMs);
    },
  });
  return { stream, writes };
}

describe('StreamDestination', () => {
  it('writes the texts handed over in one turn in one write, each promise resolving once it is written', async () => {
    const { stream, writes } = recorder(5);
    const d = new StreamDestination(stream);
    let resolved = 0;
    const all = ['a', 'b', 'c'].map((t) => d.write(t).then(() => resolved++));
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, 0, 'not before the write has called back');
    await Promise.all(all);
    assert.deepEqual(writes, ['abc']);
    await d.write('d');
    assert.deepEqual(writes, ['abc', 'd']);
  });

  it('keeps the order of single texts and a large message in parts, written a part at a time', async () => {
    const { stream, writes } = recorder();
    const d = new StreamDestination(stream);
    const [p1, p2] = ['x'.repeat(40_000), 'y'.repeat(40_000)];
    const done = [d.write('1'), d.write([p1, Buffer.from(p2)]), d.write('2'), d.write(Buffer.from('3'))];
    await Promise.all(done);
    assert.equal(writes.join(''), `1${p1}${p2}23`);
    assert.deepEqual(writes.slice(0, 3), ['1', p1, p2]);
  });

  it('joins a small message in parts into the batch of its turn', async () => {
    const { stream, writes } = recorder();
    const d = new StreamDestination(stream);
    await Promise.all([d.write('1'), d.write(['p1', Buffer.from('p2')]), d.write('2')]);
    assert.deepEqual(writes, ['1p1p22']);
  });

  it('rejects every text of a failed write, and says when the reader has gone', async () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const { stream } = recorder(0, epipe);
    const d = new StreamDestination(stream);
    const results = await Promise.allSettled([d.write('x'), d.write('y')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await d.gone;
  });
});
