/**
 * The inbox's heavy reading, off the server's thread: parsing a large
 * stored message (mailparser over megabytes of hostile MIME) and cleaning
 * large HTML for the preview (view-worker.ts). Small inputs are done here,
 * where the hand-over would cost more than the work; the bounds below keep
 * what is done here to a few milliseconds. Each job has a time budget: a
 * parse past it is a parse error, a preview past it a notice with the
 * message's text, and the worker is replaced, so no mail can hold the
 * inbox (the SMTP side's render pool does the same for the printers).
 */
import type { Message } from '../message.js';
import { WorkerJobError } from '../errors.js';
import { PARSE_TIMEOUT_MS } from '../printers/parse-message.js';
import { parseStored, type ParseResult } from '../store/message-store.js';
import { WorkerPool } from '../worker-pool.js';
import { previewHtml, type Preview } from './html-view.js';
import { mimeParts } from './mime-parts.js';

/** Messages at least this large are parsed in the worker. */
export const PARSE_OFFLOAD_BYTES = 256 * 1024;

/** HTML at least this long (in characters) is cleaned in the worker: about 30 ms here at most. */
export const PREVIEW_OFFLOAD_CHARS = 128 * 1024;

/** How long cleaning one message's HTML may take in the worker before the preview gives up. */
export const PREVIEW_TIMEOUT_MS = 5_000;

export type ViewJob =
  | { readonly kind: 'parse'; readonly message: Message }
  | { readonly kind: 'preview'; readonly html: string; readonly data: Buffer; readonly id: string };

export type ViewReply = ParseResult | Preview;

/** Copies `data` into shared memory: posted as is, it would be serialised and copied twice. */
function shared(data: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(data.length));
  data.copy(out);
  return out;
}

/** The preview's `cid:` resolver for a message: its parts' URLs, the parts read once when first asked. */
export function partUrls(id: string, data: Buffer): (contentId: string) => string | null {
  let parts: ReturnType<typeof mimeParts> | null = null;
  return (contentId) => {
    parts ??= mimeParts(data);
    const part = parts.find((p) => p.contentId === contentId);
    return part ? `/api/v1/message/${id}/part/${part.partId}` : null;
  };
}

export class ViewPool {
  private readonly pool = new WorkerPool<ViewJob, ViewReply>(
    new URL('./view-worker.js', import.meta.url),
    'reading the message',
    PARSE_TIMEOUT_MS,
  );

  /** The parse of a stored message: in the worker when large; a failure or an overrun is a parse error. */
  async parse(message: Message): Promise<ParseResult> {
    if (message.data.length < PARSE_OFFLOAD_BYTES) return parseStored(message);
    try {
      const job = { kind: 'parse', message: { ...message, data: shared(message.data) } } as const;
      return (await this.pool.run(job)) as ParseResult;
    } catch (err) {
      if (!(err instanceof WorkerJobError)) throw err;
      return { parsed: null, parseError: err.message };
    }
  }

  /** The preview of a message's HTML; past its budget, a notice and the message's text instead. */
  async preview(id: string, data: Buffer, html: string, text: string | null): Promise<Preview> {
    if (html.length < PREVIEW_OFFLOAD_CHARS) return previewHtml(html, { cid: partUrls(id, data) });
    try {
      return (await this.pool.run(
        { kind: 'preview', html, data: shared(data), id },
        [],
        PREVIEW_TIMEOUT_MS,
      )) as Preview;
    } catch (err) {
      if (!(err instanceof WorkerJobError)) throw err;
      return { html: notice(err.message, text), remote: 0 };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** What the preview shows when the HTML could not be cleaned in time: why, and the text part. */
function notice(why: string, text: string | null): string {
  const escape = (s: string) => s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
  return (
    `<!DOCTYPE html><p><strong>smtpd-ts could not prepare this message's HTML for the preview</strong> ` +
    `(${escape(why)}). Its text part follows; the HTML is in the Raw tab and the .eml download.</p>` +
    `<pre style="white-space:pre-wrap">${escape(text ?? '')}</pre>`
  );
}
