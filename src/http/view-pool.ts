/**
 * The inbox's reading, off the server's thread: parsing stored messages
 * with mailparser (over megabytes of hostile MIME, and never loaded on the
 * server's thread) and cleaning large HTML for the preview
 * (view-worker.ts), in two workers, so that a small message's parse for a
 * list never waits behind a large one's. A plain text message and small
 * HTML are done here, where the hand-over would cost more than the work;
 * the bounds below keep that to a few milliseconds. Each job has a time
 * budget: a parse past it is a parse error, a preview past it a notice
 * with the message's text, and the worker is replaced, so no mail can hold
 * the inbox (the SMTP side's render pool does the same for the printers).
 */
import type { Message } from '../message.js';
import { WorkerJobError } from '../errors.js';
import { bodyBytes, fromWire, PARSE_TIMEOUT_MS, parseQuickly, textStart } from '../mime/parse-message.js';
import type { ParsedMessage, ParseOnWire } from '../mime/parse-message.js';
import { keepSearchBytes } from '../inbox/search.js';
import { PARSE_OFFLOAD_BYTES, type ParseResult, type StoredMessage } from '../inbox/message-store.js';
import { HEAVY_JOB_BYTES, inPlace, toShared, WorkerPool } from '../worker-pool.js';
import { escapeText, previewHtml } from './html-view.js';
import { mimeParts } from './mime-parts.js';

/** HTML at least this long (in characters) is cleaned in the worker: about 30 ms here at most. */
export const PREVIEW_OFFLOAD_CHARS = 128 * 1024;

/** How long cleaning one message's HTML may take in the worker before the preview gives up. */
export const PREVIEW_TIMEOUT_MS = 5_000;

export type ViewJob =
  | { readonly kind: 'parse'; readonly message: Message }
  | { readonly kind: 'preview'; readonly html: string | Buffer; readonly data: Buffer; readonly id: string };

/** The worker's parse: the parse as `toWire` posts it, and its search text (search.ts's `searchBytes`). */
interface ParseReply {
  readonly kind: 'parse';
  readonly parsed: ParseOnWire['parsed'] | null;
  readonly parseError: string | null;
  readonly search?: Uint8Array;
}

/** The worker's preview: cleaned HTML of LARGE_BODY_CHARS or more comes as UTF-8 bytes. */
interface PreviewReply {
  readonly kind: 'preview';
  readonly html: string | Uint8Array;
  readonly remote: number;
}

export type ViewReply = ParseReply | PreviewReply;

/** A preview ready to serve: its HTML as a string when small, as UTF-8 bytes when large. */
export interface ServedPreview {
  readonly html: string | Buffer;
  readonly remote: number;
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

const viewWorkers = () =>
  new WorkerPool<ViewJob, ViewReply>(
    new URL('./view-worker.js', import.meta.url),
    'reading the message',
    PARSE_TIMEOUT_MS,
  );

export class ViewPool {
  /** Large parses and previews: seconds of work a hostile message can ask for. */
  private readonly pool = viewWorkers();
  /** Small messages' parses (what a list needs), never queued behind a large one. */
  private readonly small = viewWorkers();
  private readonly previews = new WeakMap<ParsedMessage, Promise<ServedPreview>>();

  /** @param previewTimeoutMs the budget for cleaning one message's HTML in the worker */
  constructor(private readonly previewTimeoutMs = PREVIEW_TIMEOUT_MS) {}

  /**
   * The parse of a stored message: a small plain text one here, anything
   * else in the worker, where mailparser is (loading it on this thread held
   * every client for 300 ms, and hostile MIME is its business); a failure
   * or an overrun is a parse error.
   */
  async parse(message: Message): Promise<ParseResult> {
    const quick = message.data.length < PARSE_OFFLOAD_BYTES ? parseQuickly(message) : null;
    if (quick) return { parsed: quick, parseError: null };
    const job = { kind: 'parse', message: { ...message, data: toShared(message.data) } } as const;
    const size = message.data.length;
    const reply = await this.run(size < PARSE_OFFLOAD_BYTES ? this.small : this.pool, job, PARSE_TIMEOUT_MS, size);
    if (reply instanceof WorkerJobError) return { parsed: null, parseError: reply.message };
    const { parsed, parseError, search } = reply as ParseReply;
    if (!parsed) return { parsed: null, parseError };
    const made = fromWire(parsed);
    if (search) keepSearchBytes(made, search);
    return { parsed: made, parseError };
  }

  /**
   * The preview of a loaded message's HTML (null when it has none); past its
   * budget, a notice and the message's text instead. Kept while its parse
   * is (opening a message counts its remote content, then its frame shows
   * it: cleaned once).
   */
  preview(entry: StoredMessage): Promise<ServedPreview> | null {
    const parsed = entry.parsed;
    if (!parsed || (!bodyBytes(parsed, 'html') && !parsed.html)) return null;
    let made = this.previews.get(parsed);
    if (!made) {
      made = this.makePreview(entry.id, entry.message.data, parsed);
      this.previews.set(parsed, made);
    }
    return made;
  }

  private async makePreview(id: string, data: Buffer, parsed: ParsedMessage): Promise<ServedPreview> {
    const bytes = bodyBytes(parsed, 'html');
    if (!bytes && parsed.html!.length < PREVIEW_OFFLOAD_CHARS)
      return previewHtml(parsed.html!, { cid: partUrls(id, data) });
    // Bytes in shared memory cost the worker one copy here; the string is made there.
    const html = bytes ? toShared(bytes) : parsed.html!;
    const job = { kind: 'preview', html, data: toShared(data), id } as const;
    const reply = await this.run(this.pool, job, this.previewTimeoutMs, html.length * 2);
    if (reply instanceof WorkerJobError) return { html: notice(reply.message, parsed), remote: 0 };
    const { html: cleaned, remote } = reply as PreviewReply;
    return { html: typeof cleaned === 'string' ? cleaned : inPlace(cleaned), remote };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.small.close()]);
  }

  /**
   * Runs a job of about `bytes` in `pool`; resolves with its reply, or with
   * the WorkerJobError that ended it. A job that failed only because another
   * one ran out of time (and took the worker with it) is run once more: its
   * own mail did nothing.
   */
  private async run(
    pool: WorkerPool<ViewJob, ViewReply>,
    job: ViewJob,
    timeoutMs: number,
    bytes: number,
  ): Promise<ViewReply | WorkerJobError> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await pool.run(job, [], timeoutMs, bytes >= HEAVY_JOB_BYTES);
      } catch (err) {
        if (!(err instanceof WorkerJobError)) throw err;
        if (err.reason !== 'replaced' || attempt > 0) return err;
      }
    }
  }
}

/**
 * What the preview shows when the HTML could not be cleaned in time: why,
 * and the start of the text part (as much as a list's brief holds: the text
 * may be as large as the HTML that could not be cleaned).
 */
function notice(why: string, parsed: ParsedMessage): string {
  const shown = textStart(parsed) ?? '';
  const bytes = bodyBytes(parsed, 'text');
  const longer = bytes ? bytes.length > Buffer.byteLength(shown) : (parsed.text ?? '').length > shown.length;
  const cut = longer ? '\n…' : '';
  return (
    `<!DOCTYPE html><p><strong>smtpd-ts could not prepare this message's HTML for the preview</strong> ` +
    `(${escapeText(why)}). Its text part follows; the HTML is in the Raw tab and the .eml download.</p>` +
    `<pre style="white-space:pre-wrap">${escapeText(shown)}${cut}</pre>`
  );
}
