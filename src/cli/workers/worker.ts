/**
 * A `--workers` worker: a whole sink (start.ts) on the listening socket it
 * shares with the other workers, whose outputs are the primary's (each text
 * is sent there, and the write resolves when the primary has written it, so
 * a 250 still means written), whose connections the primary admits, and
 * which stops when the primary says so. Signals are the primary's to take:
 * Ctrl-C reaches every process of the group, and the workers wait to be
 * told. If the primary goes away, the worker exits at once.
 */
import type { Destination, Text, TextOf } from '../../outputs/output.js';
import type { Config } from '../config.js';
import { start, type CliIO } from '../start.js';
import { isAcceptance, type Reply } from '../../channel/reply.js';
import type { Message } from '../../message.js';
import type { InboxIntake } from '../../handlers/inbox.js';
import type { Arrival } from '../../inbox/message-store.js';
import { UsageError } from '../../errors.js';
import { WORKER_ENV, type PrimarySays, type WorkerSays, type WorkerStart } from './protocol.js';

/** Requests to the primary and their answers, by id. */
class PrimaryLink {
  private nextId = 0;
  private readonly pending = new Map<number, (answer: PrimarySays) => void>();
  private leaving = false;
  readonly shutdown: Promise<void>;
  /** Takes what the primary's HTTP API was sent (set once the sink is started). */
  onSubmit: (request: Extract<PrimarySays, { t: 'submit' }>) => void = () => {};

  constructor() {
    let onShutdown: () => void = () => {};
    this.shutdown = new Promise((resolve) => (onShutdown = resolve));
    process.on('message', (m: PrimarySays) => {
      if (m.t === 'shutdown') return onShutdown();
      if (m.t === 'submit') return this.onSubmit(m);
      const answer = this.pending.get(m.id);
      this.pending.delete(m.id);
      answer?.(m);
    });
    // The primary has gone (killed, or exiting at once): nothing can be written any more.
    process.on('disconnect', () => {
      if (!this.leaving) process.exit(1);
    });
  }

  /** Closes the channel: this worker is done. */
  leave(): void {
    this.leaving = true;
    if (process.connected) process.disconnect();
  }

  send(message: WorkerSays): void {
    if (process.connected) process.send!(message);
  }

  ask(make: (id: number) => WorkerSays): Promise<PrimarySays> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send(make(id));
    });
  }
}

/** An output of the primary's: `write` resolves once the primary has written the text. */
class RemoteDestination implements Destination {
  constructor(
    private readonly link: PrimaryLink,
    private readonly index: number,
    readonly name: string,
    readonly isTTY: boolean,
  ) {}

  async write(text: Text, of?: TextOf): Promise<void> {
    const answer = await this.link.ask((id) => ({ t: 'write', id, out: this.index, text, of: of ?? null }));
    if (answer.t === 'written' && answer.error !== null) throw new Error(answer.error);
  }

  async close(): Promise<void> {}
}

/** A message as it crosses to the primary: a large one's bytes live in shared memory, which cannot cross. */
function crossing(message: Message): Message {
  const data = message.data;
  return data.buffer instanceof ArrayBuffer ? message : { ...message, data: Buffer.from(data) };
}

/** The primary's inbox: `add` resolves once the primary has put the message in it. */
function remoteInbox(link: PrimaryLink): InboxIntake {
  return {
    async add(message: Message, arrival: Arrival) {
      const answer = await link.ask((id) => ({ t: 'store', id, message: crossing(message), arrival }));
      if (answer.t !== 'stored' || answer.inboxId === null)
        throw new Error(`the inbox did not keep the message: ${answer.t === 'stored' ? answer.error : answer.t}`);
      return { id: answer.inboxId };
    },
  };
}

/** Runs this process as a worker until the primary says to stop; resolves with its exit code. */
export async function runWorker(config: Config, io: CliIO): Promise<number> {
  const told = JSON.parse(process.env[WORKER_ENV] ?? '{}') as Partial<WorkerStart>;
  const link = new PrimaryLink();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
  let started;
  try {
    started = await start(config, io, {
      open: (spec, index) =>
        Promise.resolve(new RemoteDestination(link, index, spec.path ?? 'stdout', told.isTTY?.[index] ?? false)),
      observe: (record) => link.send({ t: 'observe', record }),
      admission: {
        admit: async () => {
          const answer = await link.ask((id) => ({ t: 'admit', id }));
          return answer.t === 'admitted' ? answer.refusal : null;
        },
        release: () => link.send({ t: 'release' }),
      },
      inbox: remoteInbox(link),
    });
  } catch (err) {
    link.send({ t: 'failed', message: (err as Error).message, usage: err instanceof UsageError });
    link.leave();
    return 1;
  }
  const { server, submit } = started;
  link.onSubmit = (m) => {
    const said = (inboxId: string | null, refusal: string | null) =>
      link.send({ t: 'submitted', id: m.id, inboxId, refusal });
    if (!submit) return said(null, 'the inbox is not on');
    submit(m.envelope, Buffer.from(m.data), m.peer, m.authenticated).then(
      (inboxId) => said(inboxId, null),
      (err: Error) => said(null, err.message),
    );
  };
  server.on('settled', (message: Message, verdict: Reply | undefined) =>
    link.send({ t: 'settled', message: message.id, accepted: isAcceptance(verdict) }),
  );
  server.on('refusal', (refusal) => link.send({ t: 'refusal', refusal }));
  const { address, family, port } = started.address;
  link.send({ t: 'listening', address, family, port });
  await link.shutdown;
  await server.close();
  await Promise.all(started.recordWrites);
  await started.printer.close();
  await started.outputs.close();
  await started.backend?.close();
  link.leave();
  return 0;
}
