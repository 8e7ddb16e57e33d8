/**
 * The view worker (view-pool.ts): parses large stored messages and cleans
 * large HTML for the preview, off the server's thread.
 */
import { parseStored } from '../inbox/message-store.js';
import { inPlace, serveJobs } from '../worker-pool.js';
import { previewHtml } from './html-view.js';
import type { ViewJob, ViewReply } from './view-pool.js';
import { partUrls } from './view-pool.js';

serveJobs<ViewJob, ViewReply>(async (job) => {
  if (job.kind === 'parse') return { reply: await parseStored({ ...job.message, data: inPlace(job.message.data) }) };
  return { reply: previewHtml(job.html, { cid: partUrls(job.id, inPlace(job.data)) }) };
});
