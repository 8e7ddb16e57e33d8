/**
 * The harness's side of the load generator: a forked load-worker.ts and
 * request/response over IPC, each request bounded in time. A worker that
 * does not answer in time is killed (by PID) and a new one forked.
 *
 * `--generator smtp-source` swaps in Postfix's smtp-source for the load
 * scenarios it can drive (S1, S2, S3): one process per run, timed from
 * spawn to exit, checked by its exit status (it aborts on any unexpected
 * reply code).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadJob, LoadResult } from './load-generator.js';
import type { WorkerRequest, WorkerResponse } from './load-worker.js';
import { ENVELOPE } from './messages.js';
import { hasExited, stopChild, track } from './processes.js';
import { findExecutable, ROOT, SBIN } from './servers.js';

/** A request that was not answered in time. */
export class GeneratorTimeout extends Error {}

/** A request without its id (Omit over each member of the union). */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class NodeGenerator {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private worker(): ChildProcess {
    if (this.child && !hasExited(this.child)) return this.child;
    // execArgv is set, not inherited: under `node --test` the parent's flags would make the worker a test run.
    const child = track(
      fork(path.join(ROOT, 'test', 'bench', 'load-worker.ts'), [], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    child.on('message', (m: WorkerResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    child.once('exit', (code, signal) => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`load generator exited (${signal ?? `code ${code}`})`));
        this.pending.delete(id);
      }
    });
    this.child = child;
    return child;
  }

  private request<T>(body: RequestBody, timeoutMs: number): Promise<T> {
    const child = this.worker();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // A hung worker is replaced: kill this one, by PID.
        void stopChild(child, 'SIGKILL', 0);
        reject(new GeneratorTimeout(`load generator did not answer '${body.op}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      child.send({ ...body, id } as WorkerRequest);
    });
  }

  /** Connects the job's sessions (EHLO said) and resolves when all are ready. */
  prepare(job: LoadJob, timeoutMs: number): Promise<void> {
    return this.request({ op: 'prepare', job }, timeoutMs);
  }

  go(timeoutMs: number): Promise<LoadResult> {
    return this.request({ op: 'go' }, timeoutMs);
  }

  /** QUIT everywhere; resolves with an error message or null. */
  finish(timeoutMs: number): Promise<string | null> {
    return this.request({ op: 'finish' }, timeoutMs);
  }

  async close(): Promise<void> {
    if (this.child) {
      this.child.disconnect?.();
      await stopChild(this.child, 'SIGTERM', 2000);
    }
  }
}

/** Path of Postfix's smtp-source, or null. */
export function smtpSourcePath(): string | null {
  return findExecutable('smtp-source', SBIN);
}

/**
 * Runs the job with smtp-source (`-d`: every session sends its share of the
 * messages over one connection). No latency figures: it reports none.
 * `-l` is the payload size; smtp-source adds its own few header lines.
 */
export async function runSmtpSource(job: LoadJob): Promise<LoadResult> {
  const bin = smtpSourcePath();
  if (!bin) throw new Error('smtp-source is not installed: `apt-get install postfix` (then `postfix stop`)');
  const args = ['-d', '-s', String(job.connections), '-m', String(job.messages), '-l', String(job.messageSize)];
  args.push('-f', ENVELOPE.from, '-t', ENVELOPE.to, `${job.host}:${job.port}`);
  const started = performance.now();
  const child = track(spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4000)));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), job.timeoutMs)));
  const first = await Promise.race([exited, expired]);
  clearTimeout(timer);
  const elapsedMs = performance.now() - started;
  if (first === 'timeout') {
    await stopChild(child, 'SIGKILL', 0);
    return {
      ok: false,
      timedOut: true,
      error: `smtp-source timed out after ${job.timeoutMs} ms`,
      messages: 0,
      bytes: 0,
      elapsedMs,
      latencyMs: null,
      pipeliningAdvertised: false,
      generatorCpuMs: NaN,
    };
  }
  const [code, signal] = first;
  const ok = code === 0 && !/fatal|warning/i.test(err);
  return {
    ok,
    timedOut: false,
    error: ok
      ? null
      : `smtp-source exited (${signal ?? `code ${code}`}): ${err.trim().split('\n').slice(-3).join(' | ')}`,
    messages: ok ? job.messages : 0,
    bytes: ok ? job.messages * job.messageSize : 0,
    elapsedMs,
    latencyMs: null,
    pipeliningAdvertised: false,
    generatorCpuMs: NaN,
  };
}
