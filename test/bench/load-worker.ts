/**
 * The load generator's process: the harness forks it once and sends it
 * requests over IPC (prepare a job, go, finish), so that the generator's
 * CPU never competes with the harness's own event loop, and the harness can
 * read the server's /proc figures between the steps. It exits when the
 * harness goes away.
 */
import { LoadRun, type LoadJob } from './load-generator.js';

export type WorkerRequest =
  | { readonly id: number; readonly op: 'prepare'; readonly job: LoadJob }
  | { readonly id: number; readonly op: 'go' }
  | { readonly id: number; readonly op: 'finish' };

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

let run: LoadRun | null = null;

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'prepare':
      run?.abort();
      run = new LoadRun(request.job);
      await run.prepare();
      return null;
    case 'go':
      if (!run) throw new Error('go before prepare');
      return run.go();
    case 'finish': {
      if (!run) throw new Error('finish before prepare');
      const error = await run.finish();
      run = null;
      return error;
    }
    default: {
      const never: never = request;
      throw new Error(`unknown request ${JSON.stringify(never)}`);
    }
  }
}

if (!process.send) {
  process.stderr.write('load-worker.ts runs as a child of the bench harness (test/bench/run.ts)\n');
  process.exit(2);
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (value) => process.send!({ id: request.id, ok: true, value } satisfies WorkerResponse),
    (err: unknown) =>
      process.send!({
        id: request.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies WorkerResponse),
  );
});
process.on('disconnect', () => {
  run?.abort();
  process.exit(0);
});
