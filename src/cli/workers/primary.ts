/**
 * `--workers N`: this process forks N workers (node:cluster), each a whole
 * sink on the one listening socket (worker.ts), and keeps what must be one
 * for all of them (protocol.ts): the outputs, written one text at a time in
 * the order the texts arrive, so no message is ever interleaved with
 * another; the counts of messages (`--exit-after`, `--expect*`) and of
 * connections (`--max-connections`, `--connection-rate`); with `--http`,
 * the inbox and its HTTP server (primary-inbox.ts); the run files and the
 * listening line; the signals. A worker that dies is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import { rm } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExpectationTracker } from '../../expect/tracker.js';
import { openOutputs, type OpenedOutputs } from '../../outputs/open-outputs.js';
import { describeIoError, type Output, type TextOf } from '../../outputs/output.js';
import { withdrawalNotice } from '../../handlers/outputs.js';
import { DEFAULT_MAX_CONNECTIONS, SHUTDOWN_GRACE_MS } from '../../server/server.js';
import { ConnectionLimits } from '../../server/connection-limits.js';
import type { Config } from '../config.js';
import { dropPrivileges } from '../privileges.js';
import { removeRunFiles, writeRunFiles } from '../run-control.js';
import type { CliIO } from '../start.js';
import { announce, announceInbox } from '../announce.js';
import { StartError, UsageError } from '../../errors.js';
import { WORKER_ENV, type PrimarySays, type WorkerSays, type WorkerStart } from './protocol.js';

/** The entry the workers run: this build's run.js (or run.ts under tsx). */
const RUN_ENTRY = (() => {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), '..', `run${path.extname(here)}`);
})();

/** How long past the shutdown grace a worker may take to exit before it is killed, in ms. */
const EXIT_GRACE_MS = 10_000;

/** The most workers `--workers` takes. */
export const MAX_WORKERS = 64;

/** A running `--workers` sink, as main() watches and stops it. */
export interface Primary {
  /** `message` for each message accepted by any worker, `refusal` for each refusal. */
  readonly events: EventEmitter;
  readonly outputs: OpenedOutputs;
  readonly expectations: ExpectationTracker | null;
  /** Tells every worker to finish what is in flight and exit; resolves once they have. */
  stop(): Promise<void>;
  /** Kills every worker now (a second signal). */
  kill(): void;
}

/** Connections across workers: `--max-connections` and `--connection-rate` as one server counts them. */
class ConnectionCount {
  private readonly limits: ConnectionLimits;
  private readonly byWorker = new Map<Worker, number>();

  constructor(config: Config) {
    this.limits = new ConnectionLimits(
      config.smtp.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      config.rules.connectionRate,
    );
  }

  admit(worker: Worker): string | null {
    const refusal = this.limits.admit();
    if (refusal === null) this.byWorker.set(worker, (this.byWorker.get(worker) ?? 0) + 1);
    return refusal;
  }

  release(worker: Worker, n = 1): void {
    this.limits.release(n);
    this.byWorker.set(worker, (this.byWorker.get(worker) ?? 0) - n);
  }

  /** A worker has gone: its connections with it. */
  forget(worker: Worker): void {
    this.release(worker, this.byWorker.get(worker) ?? 0);
    this.byWorker.delete(worker);
  }
}

/** A message a worker has had written and not yet answered: where it went, to withdraw it if the worker dies. */
interface Unanswered {
  readonly outs: Set<number>;
  savedAs: string | undefined;
}

/**
 * What each worker has had written for messages whose reply it has not yet
 * sent. A worker that dies with any left leaves messages in the outputs
 * that no client was told were accepted: they are withdrawn as the
 * OutputHandler withdraws a message after a failed write.
 */
class Unsettled {
  private readonly byWorker = new Map<Worker, Map<string, Unanswered>>();

  /** Called when the write is asked for, so the withdrawal is queued after it on the same output. */
  wrote(worker: Worker, of: TextOf, out: number): void {
    let messages = this.byWorker.get(worker);
    if (!messages) this.byWorker.set(worker, (messages = new Map()));
    let entry = messages.get(of.id);
    if (!entry) messages.set(of.id, (entry = { outs: new Set(), savedAs: undefined }));
    entry.outs.add(out);
    entry.savedAs ??= of.savedAs;
  }

  settled(worker: Worker, id: string): void {
    this.byWorker.get(worker)?.delete(id);
  }

  /** What `worker` left unanswered; forgets the worker. */
  take(worker: Worker): Map<string, Unanswered> {
    const left = this.byWorker.get(worker) ?? new Map<string, Unanswered>();
    this.byWorker.delete(worker);
    return left;
  }
}

/** Withdraws what a dead worker left unanswered: a notice in each output with the message, the Maildir file removed. */
async function withdraw(
  outputs: readonly Output[],
  left: Map<string, Unanswered>,
  reason: string,
  log: NodeJS.WritableStream,
): Promise<void> {
  for (const [id, { outs, savedAs }] of left) {
    if (savedAs !== undefined) await rm(savedAs, { force: true }).catch(() => {});
    for (const out of outs) {
      const output = outputs[out]!;
      await output.destination.write(withdrawalNotice(output, id, 'no reply', reason)).catch((err: unknown) => {
        log.write(`smtpd-ts: cannot withdraw message ${id} from ${output.destination.name}: ${describeIoError(err)}\n`);
      });
    }
  }
}

/**
 * Says `m` to `worker`. A worker may die between its question and the
 * answer: the send then fails (EPIPE) in its callback, which is that
 * worker's failure (its exit replaces it), never the primary's.
 */
function tell(worker: Worker, m: PrimarySays): void {
  if (worker.isConnected()) worker.send(m, undefined, () => {});
}

/** Forks the workers and waits until every one listens; rejects with StartError or UsageError. */
export async function startPrimary(config: Config, argv: readonly string[], io: CliIO): Promise<Primary> {
  if (config.workers > MAX_WORKERS) throw new UsageError(`--workers takes 1 to ${MAX_WORKERS}, not ${config.workers}`);
  const outputs = await openOutputs(config, io.stdout, process.env, os.hostname());
  const expecting = config.expectCount !== null || config.expectations.length > 0;
  const expectations = expecting ? new ExpectationTracker(config.expectCount, config.expectations) : null;
  const events = new EventEmitter();
  const connections = new ConnectionCount(config);
  const unsettled = new Unsettled();
  /** The workers that have said they listen: only those have a listener for what the primary says. */
  const listeners = new WeakSet<Worker>();
  /** Withdrawals under way: stop() waits for them before the outputs close. */
  const withdrawals = new Set<Promise<void>>();
  const told: WorkerStart = { isTTY: outputs.outputs.map((o) => o.destination.isTTY) };
  /** The workers in the order they listened: the API's sends go to each in turn. */
  const serving: Worker[] = [];
  let turn = 0;
  const pick = (): Worker | null => {
    const live = serving.filter((w) => !w.isDead() && w.isConnected());
    return live.length === 0 ? null : live[turn++ % live.length]!;
  };
  // Open before any worker is forked: a worker's first message may come as soon as it listens.
  const inbox = config.inbox
    ? await import('./primary-inbox.js')
        .then(({ PrimaryInbox }) => PrimaryInbox.open(config, outputs, io.stderr, os.hostname(), pick, tell))
        .catch(async (err: unknown) => {
          await outputs.close();
          throw err;
        })
    : null;
  cluster.setupPrimary({ exec: RUN_ENTRY, args: [...argv], serialization: 'advanced', silent: false });
  let stopping = false;
  let listening = 0;
  let onStarted: (err?: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    onStarted = (err) => (err ? reject(err) : resolve());
  });
  let address: { address: string; family: string; port: number } | null = null;

  const fork = (): Worker => {
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(told) });
    const answer = (m: PrimarySays) => tell(worker, m);
    worker.on('error', (err) => io.stderr.write(`smtpd-ts: worker ${worker.process.pid}: ${err.message}\n`));
    worker.on('message', (m: WorkerSays) => {
      switch (m.t) {
        case 'listening':
          listeners.add(worker);
          serving.push(worker);
          // A shutdown sent while it was starting found no listener: it is told now.
          if (stopping) return answer({ t: 'shutdown' });
          address ??= m;
          if (++listening === config.workers) onStarted();
          break;
        case 'failed':
          onStarted(m.usage ? new UsageError(m.message) : new StartError(m.message));
          break;
        case 'write': {
          const output = outputs.outputs[m.out];
          if (!output) return answer({ t: 'written', id: m.id, error: `no output #${m.out}` });
          if (m.of) unsettled.wrote(worker, m.of, m.out);
          output.destination.write(m.text).then(
            () => answer({ t: 'written', id: m.id, error: null }),
            (err: unknown) => answer({ t: 'written', id: m.id, error: describeIoError(err) }),
          );
          break;
        }
        case 'admit':
          answer({ t: 'admitted', id: m.id, refusal: stopping ? 'shutting down' : connections.admit(worker) });
          break;
        case 'release':
          connections.release(worker);
          break;
        case 'settled':
          unsettled.settled(worker, m.message);
          if (m.accepted) events.emit('message');
          break;
        case 'refusal':
          events.emit('refusal', m.refusal);
          break;
        case 'observe':
          expectations?.observe(m.record);
          break;
        case 'store':
          if (inbox) void inbox.store(m).then(answer);
          else answer({ t: 'stored', id: m.id, inboxId: null, error: 'the primary keeps no inbox' });
          break;
        case 'submitted':
          inbox?.submitted(m);
          break;
      }
    });
    worker.on('exit', (code, signal) => {
      connections.forget(worker);
      inbox?.forget(worker);
      const how = signal ?? `code ${code}`;
      const left = unsettled.take(worker);
      if (left.size > 0) {
        const done = withdraw(outputs.outputs, left, `worker ${worker.process.pid} exited (${how})`, io.stderr);
        withdrawals.add(done);
        void done.then(() => withdrawals.delete(done));
      }
      if (stopping) return;
      if (!listeners.has(worker)) return onStarted(new StartError(`a worker exited (${how}) before it listened`));
      io.stderr.write(`smtpd-ts: worker ${worker.process.pid} exited (${how}); starting another\n`);
      fork();
    });
    return worker;
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), SHUTDOWN_GRACE_MS + EXIT_GRACE_MS);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            // One still starting is told once it listens (above).
            if (listeners.has(worker)) tell(worker, { t: 'shutdown' });
          }),
      ),
    );
    await Promise.all(withdrawals);
    await inbox?.close();
  };
  const kill = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  };

  for (let i = 0; i < config.workers; i++) fork();
  try {
    await started;
    if (address === null) throw new StartError('no worker listened');
    const bound = address as { address: string; family: string; port: number };
    dropPrivileges(config, bound.port);
    await writeRunFiles(config, bound, inbox?.url);
    if (inbox) announceInbox(inbox.url, io.stderr);
    announce(config, bound, io.stderr, config.workers);
  } catch (err) {
    await stop();
    await outputs.close();
    await removeRunFiles(config);
    throw err;
  }
  return { events, outputs, expectations, stop, kill };
}
