/**
 * `--workers` with `--http`: the one inbox, in the primary, and its HTTP
 * server. Each worker puts the messages it accepts into it (`store`) before
 * their 250; the API's send is handed to a worker (`submit`), which takes
 * the message as SMTP would and puts it here. With `--store` each worker
 * keeps its messages in the database itself, and this inbox reads them
 * from there.
 */
import type { Worker } from 'node:cluster';
import { SendError } from '../../errors.js';
import { MailboxRouter } from '../../mailboxes.js';
import type { Message } from '../../message.js';
import type { OpenedOutputs } from '../../outputs/open-outputs.js';
import type { Inbox } from '../../inbox/inbox.js';
import { openInbox } from '../../inbox/open-inbox.js';
import type { Config } from '../config.js';
import { serveInbox } from '../serve-inbox.js';
import { readUsersFile } from '../smtp-options.js';
import type { InboxHttpServer } from '../../http/http-server.js';
import type { PrimarySays, WorkerSays } from './protocol.js';

/** A message as it came over IPC: its bytes as a Buffer again. */
function arrived(message: Message): Message {
  const data = message.data;
  return Buffer.isBuffer(data) ? message : { ...message, data: Buffer.from(data) };
}

export class PrimaryInbox {
  private nextId = 0;
  /** Sends handed to a worker, by id: the worker, and what to do with its answer. */
  private readonly submits = new Map<number, { worker: Worker; done: (answer: WorkerSays) => void }>();

  private constructor(
    private readonly inbox: Inbox,
    private http: InboxHttpServer | null = null,
  ) {}

  /**
   * Opens the inbox and serves it; `pick` names the worker a send goes to
   * (null: none is listening), `tell` says something to one.
   */
  static async open(
    config: Config,
    outputs: OpenedOutputs,
    log: NodeJS.WritableStream,
    hostname: string,
    pick: () => Worker | null,
    tell: (worker: Worker, m: PrimarySays) => void,
  ): Promise<PrimaryInbox> {
    const settings = config.inbox!;
    const users = settings.authFile === null ? null : await readUsersFile(settings.authFile, '--http-auth-file');
    const inbox = await openInbox({
      ...settings.kept,
      mailboxLimits: new MailboxRouter(config.mailboxes.rules).bounded(),
      maildir: outputs.maildir?.dir ?? null,
      log,
    });
    const primary = new PrimaryInbox(inbox);
    try {
      primary.http = await serveInbox({
        config,
        inbox,
        hostname,
        users,
        log,
        submit: (envelope, data, peer, authenticated) =>
          new Promise((resolve, reject) => {
            const worker = pick();
            if (!worker) return reject(new SendError('no worker is listening; try again'));
            const id = ++primary.nextId;
            primary.submits.set(id, {
              worker,
              done: (answer) => {
                if (answer.t !== 'submitted') return reject(new SendError(`worker ${worker.process.pid} exited`));
                if (answer.inboxId === null) reject(new SendError(answer.refusal ?? 'refused'));
                else resolve(answer.inboxId);
              },
            });
            tell(worker, { t: 'submit', id, envelope, data, peer, authenticated });
          }),
      });
    } catch (err) {
      await inbox.close();
      throw err;
    }
    return primary;
  }

  /** The inbox's base URL. */
  get url(): string {
    return this.http!.url;
  }

  /** A worker's accepted message, put in the inbox; resolves with the answer the worker waits for. */
  async store(m: Extract<WorkerSays, { t: 'store' }>): Promise<PrimarySays> {
    try {
      const entry = await this.inbox.add(arrived(m.message), m.arrival);
      return { t: 'stored', id: m.id, inboxId: entry.id, error: null };
    } catch (err) {
      return { t: 'stored', id: m.id, inboxId: null, error: (err as Error).message };
    }
  }

  /** A worker's answer to a send. */
  submitted(m: Extract<WorkerSays, { t: 'submitted' }>): void {
    const pending = this.submits.get(m.id);
    this.submits.delete(m.id);
    pending?.done(m);
  }

  /** A worker has gone: the sends it had not answered fail. */
  forget(worker: Worker): void {
    for (const [id, pending] of this.submits)
      if (pending.worker === worker) {
        this.submits.delete(id);
        pending.done({ t: 'release' });
      }
  }

  async close(): Promise<void> {
    await this.http?.close();
    await this.inbox.close();
  }
}
