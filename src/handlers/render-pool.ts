/**
 * Sends large messages to the render worker (render-worker.ts) and waits
 * for their text: the server's thread stays free for other clients, and a
 * message whose formatting runs past RENDER_TIMEOUT_MS (a super-linear path
 * no test has found yet) gets 451 and the worker is replaced, instead of
 * the sink freezing. One worker: this machine has two cores, one of them
 * the server's.
 */
import type { Finding } from '../lint/findings.js';
import type { Message } from '../message.js';
import type { ParsedMessage, ParseOnWire } from '../mime/parse-message.js';
import type { PrintContext } from '../printers/printer.js';
import type { FormatName } from '../printers/registry.js';
import type { RenderSettings } from './render.js';
import { HEAVY_JOB_BYTES, toShared, WorkerPool } from '../worker-pool.js';

/** Messages at least this large are formatted in the worker; smaller ones cost less than the hand-over. */
export const OFFLOAD_MIN_BYTES = 1 << 20;

/** How long the worker may take for one message before it is replaced and the message gets 451. */
const RENDER_TIMEOUT_MS = 60_000;

/** What the worker is given: the message, what the printers get besides, and the outputs by format name. */
export interface RenderJob {
  readonly message: Message;
  readonly extra: PrintContext;
  readonly settings: RenderSettings;
  readonly outputs: readonly { readonly format: FormatName; readonly colored: boolean }[];
  /** Send the parsed message back (for expectations). */
  readonly wantParsed: boolean;
  /** Send the parse back in brief (`briefParse`: for the inbox), when not whole. */
  readonly wantBrief?: boolean;
}

/** What it answers: each output's text, and what the lint and the parse found. */
export interface RenderReply {
  readonly rendered: readonly Uint8Array[];
  readonly lint?: readonly Finding[];
  readonly parseError?: string;
  /** As the worker posts it (`toWire`): large bodies as bytes; `fromWire` on this side. */
  readonly parsed?: ParseOnWire['parsed'];
  readonly brief?: ParsedMessage;
}

/** Formats messages in the worker; rejects with WorkerJobError when it fails, dies or takes too long. */
export class RenderPool {
  private readonly pool = new WorkerPool<RenderJob, RenderReply>(
    new URL('./render-worker.js', import.meta.url),
    'formatting the message',
    RENDER_TIMEOUT_MS,
  );

  /** Formats `job` in the worker; rejects when it fails, dies or takes `timeoutMs` (60 s by default). */
  render(job: RenderJob, timeoutMs = RENDER_TIMEOUT_MS): Promise<RenderReply> {
    const data = job.message.data;
    const heavy = data.length >= HEAVY_JOB_BYTES;
    return this.pool.run({ ...job, message: { ...job.message, data: toShared(data) } }, [], timeoutMs, heavy);
  }

  /** Stops the worker (at shutdown); anything pending is rejected. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
