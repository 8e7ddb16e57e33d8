/**
 * Sends large messages to the render worker (render-worker.ts) and waits
 * for their text: the server's thread stays free for other clients, and a
 * message whose formatting runs past RENDER_TIMEOUT_MS (a super-linear path
 * no test has found yet) gets 451 and the worker is replaced, instead of
 * the sink freezing. One worker: this machine has two cores, one of them
 * the server's.
 */
import { Worker } from 'node:worker_threads';
import type { Finding } from '../lint/findings.js';
import type { Message } from '../message.js';
import type { ParsedMessage } from '../printers/parse-message.js';
import type { PrintContext } from '../printers/printer.js';
import type { FormatName } from '../printers/registry.js';
import type { RenderSettings } from './render.js';

/** Messages at least this large are formatted in the worker; smaller ones cost less than the hand-over. */
export const OFFLOAD_MIN_BYTES = 1 << 20;

/** How long the worker may take for one message before it is replaced and the message gets 451. */
const RENDER_TIMEOUT_MS = 60_000;

/** What the worker is given: the message, what the printers get besides, and the outputs by format name. */
export interface RenderJob {
  readonly id: number;
  readonly message: Message;
  readonly extra: PrintContext;
  readonly settings: RenderSettings;
  readonly outputs: readonly { readonly format: FormatName; readonly colored: boolean }[];
  /** Send the parsed message back (for expectations). */
  readonly wantParsed: boolean;
}

/** What it answers: each output's text, and what the lint and the parse found. */
export interface RenderReply {
  readonly id: number;
  readonly rendered: readonly Uint8Array[];
  readonly lint?: readonly Finding[];
  readonly parseError?: string;
  readonly parsed?: ParsedMessage;
}

type Answer = RenderReply | { readonly id: number; readonly error: string };

interface Pending {
  readonly resolve: (reply: RenderReply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Run from the TypeScript source (the tests, under tsx), a worker does not
 * get tsx's loader from `--import`: it registers it first, then loads the
 * worker's source.
 */
function fromSource(): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./render-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`,
    { eval: true },
  );
}

export class RenderPool {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Formats `job` in the worker; rejects when it fails, dies or takes too long. */
  render(job: Omit<RenderJob, 'id'>, timeoutMs = RENDER_TIMEOUT_MS): Promise<RenderReply> {
    const worker = this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`formatting the message took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // Posted as is, the message would be serialised and copied twice (50 ms
      // for 30 MiB, all of it on this thread); one copy into shared memory
      // costs a fifth of that, and the worker reads it in place.
      const data = job.message.data;
      const shared = Buffer.from(new SharedArrayBuffer(data.length));
      data.copy(shared);
      worker.postMessage({ ...job, id, message: { ...job.message, data: shared } } satisfies RenderJob);
    });
  }

  /** Stops the worker (at shutdown); anything pending is rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.fail(new Error('the sink is shutting down'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = import.meta.url.endsWith('.ts')
      ? fromSource()
      : new Worker(new URL('./render-worker.js', import.meta.url));
    worker.unref(); // an idle worker never keeps the process alive
    worker.on('message', (answer: Answer) => {
      const p = this.pending.get(answer.id);
      if (!p) return;
      this.pending.delete(answer.id);
      clearTimeout(p.timer);
      if ('error' in answer) p.reject(new Error(`the render worker failed: ${answer.error}`));
      else p.resolve(answer);
    });
    // A worker already replaced (after a timeout) may still report its end: not the current one's business.
    worker.on(
      'error',
      (err) => this.worker === worker && this.fail(new Error(`the render worker died: ${err.stack ?? err.message}`)),
    );
    worker.on('exit', () => this.worker === worker && this.fail(new Error('the render worker exited')));
    this.worker = worker;
    return worker;
  }

  /** Rejects everything pending and drops the worker: the next job starts a new one. */
  private fail(err: Error): void {
    const worker = this.worker;
    this.worker = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
    void worker?.terminate();
  }
}
