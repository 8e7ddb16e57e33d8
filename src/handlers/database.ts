/**
 * `--store postgres://...`: the message is committed to the database before
 * the handler it wraps writes it anywhere, so a 250 means it is in the
 * database; while the database cannot be reached the client gets 451 and
 * retries (nothing accepted is lost). A message the inner handler then
 * refuses, or fails to write, is taken out of the database again.
 */
import { isAcceptance, reply, replyOf } from '../channel/reply.js';
import { ReplyError } from '../errors.js';
import type { Message } from '../message.js';
import type { PrintContext } from '../printers/printer.js';
import type { Verdict } from '../server/server.js';
import { newId } from '../store/message-store.js';
import type { PostgresInbox } from '../store/postgres-store.js';
import type { ContextHandler } from './strict.js';

export const R451_STORE_DOWN = reply(
  451,
  '4.3.0 Requested action aborted: the inbox database is unavailable, try again',
);

export class DatabaseHandler implements ContextHandler {
  constructor(
    private readonly inner: ContextHandler,
    private readonly db: PostgresInbox,
  ) {}

  async handleMessage(message: Message, extra?: PrintContext): Promise<Verdict> {
    const inboxId = newId();
    try {
      await this.db.insert(inboxId, message);
    } catch (err) {
      throw new ReplyError(R451_STORE_DOWN, `--store: ${(err as Error).message}`);
    }
    let verdict: Verdict;
    try {
      verdict = await this.inner.handleMessage({ ...message, inboxId }, extra);
    } catch (err) {
      await this.db.withdraw(inboxId);
      throw err;
    }
    // What the client is not told 2xx or 3xx is not stored.
    if (!isAcceptance(replyOf(verdict))) await this.db.withdraw(inboxId);
    return verdict;
  }
}
