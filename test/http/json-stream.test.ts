/**
 * json-stream's writer through a real HTTP server: a Utf8Text is written as
 * the string its bytes decode to (characters cut between pieces kept whole,
 * invalid bytes as U+FFFD), and MailHog's shape of a large message that is
 * not multipart keeps its body as bytes yet reads as the string path's.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Utf8Text, writeJson } from '../../src/http/json-stream.js';
import { contentFromString, mailhogMessage } from '../../src/http/mailhog-shapes.js';
import { MessageStore } from '../../src/inbox/message-store.js';
import { makeMessage } from '../helpers/message.js';

/** What writeJson sends for `value`, parsed. */
async function written(value: unknown): Promise<unknown> {
  const server = http.createServer((_req, res) => void writeJson(res, value, 'application/json'));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return JSON.parse(await res.text());
  } finally {
    server.close();
  }
}

describe('writeJson', () => {
  it('writes a Utf8Text as the string its bytes decode to, across every piece boundary', async () => {
    // 'é' (2 bytes) and an emoji (4 bytes) shift the boundaries; 0xff and a cut 3-byte character are invalid.
    const text = `a${'é😀x'.repeat(40_000)}`;
    const bytes = Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0x41, 0xe2, 0x82])]);
    assert.deepEqual(await written({ t: new Utf8Text(bytes), n: 1 }), { t: bytes.toString('utf8'), n: 1 });
  });

  it('gives MailHog’s shape of a large plain message from its bytes, as the string path would', async () => {
    const body = `${'ünïcødé line\r\n'.repeat(120_000)}end`;
    const raw = `Subject: big\r\nX-Folded: one\r\n two\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
    const store = new MessageStore();
    const entry = store.add(makeMessage(Buffer.from(raw)));
    const shape = mailhogMessage(entry, 'sink.test') as {
      Content: { Body: unknown };
      Raw: { Data: unknown };
    };
    assert.ok(shape.Content.Body instanceof Utf8Text, 'the body stays bytes');
    const got = (await written(shape)) as {
      Content: { Headers: Record<string, string[]>; Body: string; Size: number };
      Raw: { Data: string };
    };
    const expected = contentFromString(raw);
    assert.equal(got.Content.Body, expected.Body);
    assert.equal(got.Content.Size, expected.Size);
    assert.deepEqual(got.Content.Headers['X-Folded'], expected.Headers['X-Folded']);
    assert.equal(got.Raw.Data, raw);
  });
});
