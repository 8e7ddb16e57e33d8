/**
 * `--mailbox`: files each message in its mailbox (src/mailboxes.ts)
 * before the handler it wraps sees it, so every output (JSON, the Maildir,
 * the inbox) records the same mailbox.
 */
import type { Message } from '../message.js';
import type { Handler, Verdict } from '../server/server.js';
import type { MailboxRouter } from '../mailboxes.js';

export class MailboxHandler implements Handler {
  constructor(
    private readonly inner: Handler,
    private readonly router: MailboxRouter,
  ) {}

  handleMessage(message: Message): Verdict | Promise<Verdict> {
    return this.inner.handleMessage({ ...message, mailbox: this.router.choose(message) });
  }
}
