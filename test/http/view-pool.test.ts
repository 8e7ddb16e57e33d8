/**
 * The view worker's budget: HTML the worker cannot clean in time gives a
 * preview that says so and shows the start of the text part, never an
 * error and never the whole text at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ViewPool, PREVIEW_OFFLOAD_CHARS } from '../../src/http/view-pool.js';
import { BRIEF_TEXT_CHARS, bodyBytes, LARGE_BODY_CHARS, textStart } from '../../src/mime/parse-message.js';
import { mailpitSearch } from '../../src/inbox/search.js';
import { MessageStore } from '../../src/inbox/message-store.js';
import { makeMessage } from '../helpers/message.js';

describe('the view pool', () => {
  it('answers a preview past its budget with a notice and the start of the text part', async () => {
    const html = `<p>${'<b>bold</b> '.repeat(PREVIEW_OFFLOAD_CHARS / 8)}</p>`;
    const text = `first words <of the text> ${'word '.repeat(BRIEF_TEXT_CHARS / 2)}`;
    const raw =
      'Subject: slow\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n' +
      `--b\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--b\r\nContent-Type: text/html\r\n\r\n${html}\r\n--b--\r\n`;
    const store = new MessageStore();
    const pool = new ViewPool(1);
    store.parser = (m) => pool.parse(m);
    try {
      const entry = store.add(makeMessage(Buffer.from(raw)));
      await store.load(entry);
      const preview = await pool.preview(entry)!;
      const html = preview.html.toString();
      assert.match(html, /could not prepare this message's HTML for the preview<\/strong> \(.*took longer than 1 ms/);
      assert.match(html, /<pre[^>]*>first words &lt;of the text&gt; word /);
      assert.match(html, /\n…<\/pre>$/, 'the text is cut, and says so');
      assert.ok(html.length < 2 * BRIEF_TEXT_CHARS, `${html.length} characters`);
      assert.equal(preview.remote, 0);
    } finally {
      await pool.close();
    }
  });

  it('hands a large parse over as bytes: its bodies, its search text and its cleaned HTML', async () => {
    // Over LARGE_BODY_CHARS each, with a word near the end that only a search of the whole text finds.
    const text = `${'plain words '.repeat(LARGE_BODY_CHARS / 10)}Ünïcode NEEDLE-Near-The-End`;
    const html = `<p>${'<b>bold</b> '.repeat(LARGE_BODY_CHARS / 10)}<i>html-Tail</i></p>`;
    const raw =
      'Subject: large\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n' +
      `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
      `--b\r\nContent-Type: text/html\r\n\r\n${html}\r\n--b--\r\n`;
    const store = new MessageStore();
    const pool = new ViewPool();
    store.parser = (m) => pool.parse(m);
    try {
      const entry = store.add(makeMessage(Buffer.from(raw)));
      await store.load(entry);
      const parsed = entry.parsed!;
      assert.equal(bodyBytes(parsed, 'text')?.toString(), text, 'the text came as bytes');
      assert.ok(bodyBytes(parsed, 'html')?.toString().endsWith('<i>html-Tail</i></p>'));
      assert.equal(textStart(parsed), text.slice(0, BRIEF_TEXT_CHARS), 'the start is read from the bytes');
      assert.equal(parsed.text, text, 'and the string is still there for whoever asks');
      assert.equal(parsed.subject, 'large');
      for (const [query, found] of [
        ['needle-near-the-end', true],
        ['ünïcode', true],
        ['HTML-TAIL', true],
        ['-needle-near-the-end', false],
        ['no-such-word', false],
      ] as const) {
        const search = mailpitSearch(query);
        assert.ok(typeof search !== 'string');
        assert.equal(search.test(entry), found, query);
      }
      const preview = await pool.preview(entry)!;
      assert.ok(Buffer.isBuffer(preview.html), 'cleaned HTML this large comes back as bytes');
      assert.match(preview.html.toString(), /<i>html-Tail<\/i>/);
    } finally {
      await pool.close();
    }
  });
});
