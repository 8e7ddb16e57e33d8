/**
 * The view worker (view-pool.ts): parses large stored messages and cleans
 * large HTML for the preview, off the server's thread.
 */
import { parseStored } from '../store/message-store.js';
import { serveJobs } from '../worker-pool.js';
import { previewHtml } from './html-view.js';
import type { ViewJob, ViewReply } from './view-pool.js';
import { partUrls } from './view-pool.js';

serveJobs<ViewJob, ViewReply>(async (job) => {
  // Buffers arrive as plain Uint8Arrays over shared memory: seen as Buffers again, in place.
  const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (job.kind === 'parse') return { reply: await parseStored({ ...job.message, data: view(job.message.data) }) };
  return { reply: previewHtml(job.html, { cid: partUrls(job.id, view(job.data)) }) };
});
