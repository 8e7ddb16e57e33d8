/**
 * `--strict` as one handler wrapper: a message with an error-severity
 * finding is refused with 550 naming the first one, before the handler it
 * wraps sees it, so a refused message is relayed nowhere, written to no
 * output, saved to no Maildir, and counted by neither --exit-after nor the
 * expectations. The findings go on to that handler, so the message is
 * linted once. stderr gets one line (the server logs a ReplyError).
 */
import type { Finding } from '../lint/findings.js';
import { enforceStrict } from '../lint/strict.js';
import type { Message } from '../message.js';
import type { PrintContext } from '../printers/printer.js';
import type { Handler, Verdict } from '../server/server.js';

/** A handler that takes what the printers get besides the message (OutputHandler, RelayHandler). */
export interface ContextHandler extends Handler {
  handleMessage(message: Message, extra?: PrintContext): Verdict | Promise<Verdict>;
}

export class StrictHandler implements Handler {
  /**
   * @param lint finds what the sender did wrong (the OutputHandler's `lint`,
   *   which lints large messages in the render worker)
   */
  constructor(
    private readonly inner: ContextHandler,
    private readonly lint: (message: Message) => Promise<readonly Finding[]>,
  ) {}

  async handleMessage(message: Message): Promise<Verdict> {
    const lint = await this.lint(message);
    enforceStrict(lint);
    return this.inner.handleMessage(message, { lint });
  }
}
