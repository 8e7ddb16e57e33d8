/**
 * A worker thread that runs one kind of job off the server's thread, each
 * with a time budget: a job past its budget is rejected and the worker is
 * replaced, so a super-linear path in a library (a parser, a cleaner)
 * costs that one request, never the sink. Used for the printers' large
 * messages (handlers/render-pool.ts) and the inbox's parses and previews
 * (http/view-pool.ts).
 *
 * The protocol is `{id, job}` in, `{id, reply}` or `{id, error}` out; the
 * worker's side is `serveJobs`.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { WorkerJobError } from './errors.js';

/** A job over at least this much mail retires its worker when done (see `run`). */
export const HEAVY_JOB_BYTES = 4 << 20;

type Answer<Reply> = { readonly id: number; readonly reply: Reply } | { readonly id: number; readonly error: string };

interface Pending<Reply> {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Run from the TypeScript source (the tests, under tsx), a worker does not
 * get tsx's loader from `--import`: it registers it first, then loads the
 * worker's source.
 */
function fromSource(source: URL): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`,
    { eval: true },
  );
}

export class WorkerPool<Job, Reply> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending<Reply>>();
  private nextId = 0;
  private closed = false;
  /** Set when a heavy job ran: the worker ends once it has nothing pending, giving its grown heap back. */
  private retiring = false;

  /**
   * @param script the worker's module, as a URL of its compiled `.js` or its `.ts` source (the one beside the caller)
   * @param what what the worker does, for error messages ("formatting the message")
   */
  constructor(
    private readonly script: URL,
    private readonly what: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs `job` in the worker; rejects with WorkerJobError when it fails,
   * dies or takes too long. A `heavy` job (megabytes of mail) retires the
   * worker once nothing is pending: V8 keeps the pages a heap grew to, and
   * a thread that parsed 30 MiB would otherwise hold hundreds of MiB idle.
   */
  run(job: Job, transfer: readonly ArrayBuffer[] = [], timeoutMs = this.timeoutMs, heavy = false): Promise<Reply> {
    if (this.closed) return Promise.reject(new WorkerJobError('the sink is shutting down', 'closed'));
    const worker = this.start();
    const id = ++this.nextId;
    if (heavy) this.retiring = true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new WorkerJobError(`${this.what} took longer than ${timeoutMs} ms`, 'timeout'), id);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, job }, transfer as ArrayBuffer[]);
    });
  }

  /** Stops the worker (at shutdown); anything pending is rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.fail(new WorkerJobError('the sink is shutting down', 'closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const script = this.script;
    const worker = import.meta.url.endsWith('.ts')
      ? fromSource(new URL(script.href.replace(/\.js$/, '.ts')))
      : new Worker(script);
    worker.unref(); // an idle worker never keeps the process alive
    worker.on('message', (answer: Answer<Reply>) => {
      const p = this.pending.get(answer.id);
      if (!p) return;
      this.pending.delete(answer.id);
      clearTimeout(p.timer);
      if ('error' in answer) p.reject(new WorkerJobError(`the worker failed: ${answer.error}`, 'failed'));
      else p.resolve(answer.reply);
      if (this.retiring && this.pending.size === 0 && this.worker === worker) {
        this.worker = null;
        void worker.terminate();
      }
    });
    // A worker already replaced (after a timeout) may still report its end: not the current one's business.
    worker.on(
      'error',
      (err) =>
        this.worker === worker &&
        this.fail(new WorkerJobError(`the worker died: ${err.stack ?? err.message}`, 'failed')),
    );
    worker.on('exit', () => this.worker === worker && this.fail(new WorkerJobError('the worker exited', 'failed')));
    this.worker = worker;
    this.retiring = false;
    return worker;
  }

  /**
   * Rejects everything pending and drops the worker: the next job starts a
   * new one. When one job ran out of time (`culprit`), only it gets `err`
   * (`timeout`); the others were not at fault and may be run again.
   */
  private fail(err: WorkerJobError, culprit?: number): void {
    const worker = this.worker;
    this.worker = null;
    const bystander = new WorkerJobError(
      `the worker was replaced while ${this.what}: another job ran out of time`,
      'replaced',
    );
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(culprit === undefined || id === culprit ? err : bystander);
      this.pending.delete(id);
    }
    void worker?.terminate();
  }
}

/**
 * `data` in shared memory, to post to a worker: posted as is, a buffer is
 * serialised and copied twice (50 ms for 30 MiB, all of it on the posting
 * thread); one copy costs a fifth of that, and the worker reads it in place
 * (`inPlace`). A large message's body is in shared memory from the start
 * (channel/message-body.ts): it goes as it is.
 */
export function toShared(data: Buffer): Buffer {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const shared = Buffer.from(new SharedArrayBuffer(data.length));
  data.copy(shared);
  return shared;
}

/**
 * `text` as UTF-8 in a buffer of its own, to transfer to another thread:
 * `Buffer.from` may give a slice of Node's shared pool, which cannot be.
 */
export function transferableUtf8(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

/** A buffer posted to a worker arrives as a plain Uint8Array: a Buffer over the same memory again. */
export function inPlace(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The worker's side: answers each job with `run`'s reply (its buffers transferred) or its error. */
export function serveJobs<Job, Reply>(
  run: (job: Job) => Promise<{ readonly reply: Reply; readonly transfer?: readonly ArrayBuffer[] }>,
): void {
  parentPort?.on('message', ({ id, job }: { id: number; job: Job }) => {
    run(job).then(
      ({ reply, transfer }) => parentPort!.postMessage({ id, reply }, (transfer ?? []) as ArrayBuffer[]),
      (err: unknown) =>
        parentPort!.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}
