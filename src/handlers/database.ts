/**
 * `--store postgres://...`: the message's row is reserved in the database
 * (Inbox.reserve) before the handler it wraps writes it anywhere, so a 250
 * means it is in the database; while the database cannot be reached the
 * client gets 451 and retries (nothing accepted is lost). A message the
 * inner handler then refuses, or fails to write, is withdrawn again; one
 * accepted is confirmed by the inbox handler (inbox.ts) under its ID.
 */
import { isAcceptance, reply, replyOf } from '../channel/reply.js';
import { ReplyError } from '../errors.js';
import type { Message } from '../message.js';
import type { PrintContext } from '../printers/printer.js';
import type { Verdict } from '../server/server.js';
import type { Inbox } from '../inbox/inbox.js';
import type { ContextHandler } from './strict.js';

export const R451_STORE_DOWN = reply(
  451,
  '4.3.0 Requested action aborted: the inbox database is unavailable, try again',
);

export class DatabaseHandler implements ContextHandler {
  constructor(
    private readonly inner: ContextHandler,
    private readonly db: Required<Pick<Inbox, 'reserve' | 'withdraw'>>,
  ) {}

  async handleMessage(message: Message, extra?: PrintContext): Promise<Verdict> {
    let inboxId: string;
    try {
      inboxId = await this.db.reserve(message);
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
