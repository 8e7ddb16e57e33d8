/**
 * The view worker (view-pool.ts): parses large stored messages and cleans
 * large HTML for the preview, off the server's thread. What it sends back
 * large (a body, the search text, cleaned HTML) goes as transferred bytes,
 * never as a string the server's thread would have to copy.
 */
import { parseStored } from '../inbox/message-store.js';
import { searchBytes } from '../inbox/search.js';
import { LARGE_BODY_CHARS, toWire } from '../mime/parse-message.js';
import { inPlace, serveJobs, transferableUtf8 } from '../worker-pool.js';
import { previewHtml } from './html-view.js';
import type { ViewJob, ViewReply } from './view-pool.js';
import { partUrls } from './view-pool.js';

serveJobs<ViewJob, ViewReply>(async (job) => {
  if (job.kind === 'parse') {
    const { parsed, parseError } = await parseStored({ ...job.message, data: inPlace(job.message.data) });
    if (!parsed) return { reply: { kind: 'parse', parsed: null, parseError } };
    const wire = toWire(parsed);
    const search = searchBytes(parsed, job.message.mailFrom);
    const reply = { kind: 'parse', parsed: wire.parsed, parseError, search } as const;
    return { reply, transfer: [...wire.transfer, search.buffer as ArrayBuffer] };
  }
  const html = typeof job.html === 'string' ? job.html : inPlace(job.html).toString('utf8');
  const preview = previewHtml(html, { cid: partUrls(job.id, inPlace(job.data)) });
  if (preview.html.length < LARGE_BODY_CHARS) return { reply: { kind: 'preview', ...preview } };
  const cleaned = transferableUtf8(preview.html);
  return {
    reply: { kind: 'preview', html: cleaned, remote: preview.remote },
    transfer: [cleaned.buffer as ArrayBuffer],
  };
});
