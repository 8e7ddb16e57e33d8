/**
 * The store's cache of parses: bounded by count and by bytes (the newest
 * always kept), one parse at a time for a message however many ask, and a
 * parse handed in at add kept from the start.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InboxHttpServer } from '../../src/http/http-server.js';
import { summary } from '../../src/http/mailpit-shapes.js';
import { MemoryInbox } from '../../src/inbox/memory-inbox.js';
import { briefParse } from '../../src/mime/parse-message.js';
import { MessageStore, PARSED_KEPT_BYTES, parseStored, type ParseResult } from '../../src/inbox/message-store.js';
import type { Message } from '../../src/message.js';
import { makeMessage } from '../helpers/message.js';

const big = (n: number) => makeMessage(Buffer.from(`Subject: m${n}\r\n\r\n${'x'.repeat(20 << 20)}\r\n`));

describe('the store’s parses', () => {
  it('keeps the parses of at most PARSED_KEPT_BYTES of mail, the most recently used', async () => {
    const store = new MessageStore({ maxBytes: 0 });
    const entries = [0, 1, 2, 3, 4].map((n) => store.add(big(n)));
    await store.load(...entries);
    const kept = entries.filter((e) => e.parsed !== null);
    assert.ok(kept.length * (20 << 20) <= PARSED_KEPT_BYTES, `${kept.length} parses of 20 MiB kept`);
    assert.ok(kept.length >= 1);
    // Loading an evicted one again keeps it, as the newest used.
    const evicted = entries.find((e) => e.parsed === null)!;
    await store.load(evicted);
    assert.notEqual(evicted.parsed, null);
  });

  it('parses a message once however many ask at once', async () => {
    const store = new MessageStore();
    let parses = 0;
    store.parser = (m: Message): Promise<ParseResult> => {
      parses++;
      return parseStored(m);
    };
    const entry = store.add(makeMessage(Buffer.from('Subject: once\r\n\r\nbody\r\n')));
    await Promise.all([store.load(entry), store.load(entry), store.load(entry)]);
    assert.equal(parses, 1);
    assert.equal(entry.parsed?.subject, 'once');
  });

  it('keeps a parse handed in at add, without parsing again', async () => {
    const store = new MessageStore();
    store.parser = () => Promise.reject(new Error('parsed again'));
    const message = makeMessage(Buffer.from('Subject: given\r\n\r\nbody\r\n'));
    const entry = store.add(message, { parse: await parseStored(message) });
    await store.load(entry);
    assert.equal(entry.parsed?.subject, 'given');
  });

  it('lists a message from its brief without parsing it, and parses it whole for its own route', async () => {
    const inbox = new MemoryInbox();
    const store = inbox.store;
    const server = new InboxHttpServer({ host: '127.0.0.1', port: 0, inbox, hostname: 'sink.test' });
    await server.listen();
    // Set after the server, which hands large parses to its worker: here every parse is counted.
    let parses = 0;
    store.parser = (m: Message): Promise<ParseResult> => {
      parses++;
      return parseStored(m);
    };
    const text = `${'word '.repeat(30_000)}end`;
    const message = makeMessage(Buffer.from(`Subject: brief\r\n\r\n${text}\r\n`));
    const whole = (await parseStored(message)).parsed!;
    const entry = store.add(message, { brief: briefParse(whole) });
    const response = await fetch(`${server.url}/api/v1/messages`);
    const page = (await response.json()) as { messages: { Subject: string; Snippet: string }[] };
    await server.close();
    assert.equal(parses, 0, 'the list read the brief');
    assert.equal(page.messages[0]!.Subject, 'brief');
    assert.equal(page.messages[0]!.Snippet, summary({ ...entry, parsed: whole } as never).Snippet);
    assert.ok(entry.brief!.text!.length < text.length);
    await store.load(entry);
    assert.equal(parses, 1);
    assert.equal(entry.parsed?.text?.trim(), text);
  });
});
