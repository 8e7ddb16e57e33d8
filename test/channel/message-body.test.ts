/**
 * MessageBody: small bodies are joined once at the end; a body that reaches
 * SHARED_BODY_BYTES moves to a growable shared buffer and every later chunk
 * is copied in as it comes, so the end of DATA costs no join and a worker
 * reads the body where it is. The limit still ends storing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageBody, SHARED_BODY_BYTES } from '../../src/channel/message-body.js';

/** `n` chunks of `size` bytes, each filled with its own index. */
function chunks(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));
}

describe('a message body', () => {
  it('joins a small body at the end, in ordinary memory', () => {
    const body = new MessageBody(0);
    for (const c of chunks(3, 1000)) body.add(c);
    const data = body.message();
    assert.ok(data.equals(Buffer.concat(chunks(3, 1000))));
    assert.ok(!(data.buffer instanceof SharedArrayBuffer));
  });

  it('moves a large body to shared memory as it grows, byte for byte', () => {
    const body = new MessageBody(0);
    const parts = chunks(40, 64 * 1024 + 7);
    for (const c of parts) body.add(c);
    const data = body.message();
    assert.ok(data.length > SHARED_BODY_BYTES);
    assert.ok(data.buffer instanceof SharedArrayBuffer, 'shared: a worker reads it in place');
    assert.ok(data.equals(Buffer.concat(parts)));
  });

  it('lets go of what it stored once past the limit, shared or not', () => {
    for (const limit of [5000, SHARED_BODY_BYTES + 100_000]) {
      const body = new MessageBody(limit);
      for (const c of chunks(40, 64 * 1024)) body.add(c);
      assert.equal(body.tooBig, true);
      assert.equal(body.message().length, 0);
    }
  });

  it('keeps a body of exactly the limit, shared', () => {
    const limit = SHARED_BODY_BYTES * 2;
    const body = new MessageBody(limit);
    for (const c of chunks(32, 64 * 1024)) body.add(c);
    assert.equal(body.tooBig, false);
    assert.equal(body.message().length, limit);
  });
});
