/**
 * The view worker's budget: HTML the worker cannot clean in time gives a
 * preview that says so and shows the start of the text part, never an
 * error and never the whole text at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ViewPool, PREVIEW_OFFLOAD_CHARS } from '../../src/http/view-pool.js';
import { BRIEF_TEXT_CHARS } from '../../src/mime/parse-message.js';
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
      assert.match(
        preview.html,
        /could not prepare this message's HTML for the preview<\/strong> \(.*took longer than 1 ms/,
      );
      assert.match(preview.html, /<pre[^>]*>first words &lt;of the text&gt; word /);
      assert.match(preview.html, /\n…<\/pre>$/, 'the text is cut, and says so');
      assert.ok(preview.html.length < 2 * BRIEF_TEXT_CHARS, `${preview.html.length} characters`);
      assert.equal(preview.remote, 0);
    } finally {
      await pool.close();
    }
  });
});
