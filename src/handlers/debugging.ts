/**
 * smtpd's DebuggingServer as a handler: prints every message and accepts it.
 * The 250 is sent only after the printed text has been handed to the output.
 */
import type { Message } from '../message.js';
import type { Printer } from '../printers/printer.js';
import { printRaw } from '../printers/raw.js';
import { SMTPServer, type Handler, type ServerOptions } from '../server/server.js';
import { writeText } from '../outputs/write-text.js';

export class DebuggingHandler implements Handler {
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly printer: Printer = printRaw,
  ) {}

  async handleMessage(message: Message): Promise<void> {
    await writeText(this.out, this.printer(message));
  }
}

/** Python smtpd's `DebuggingServer`: an SMTPServer that prints each message to stdout. */
export class DebuggingServer extends SMTPServer {
  constructor(
    localaddr: { host: string; port: number },
    remoteaddr: { host: string; port: number } | null = null,
    options: ServerOptions = {},
  ) {
    super(localaddr, remoteaddr, { handler: new DebuggingHandler(), ...options });
  }
}
