/**
 * The CLI's handler: lints the message (src/lint/) when anything shows or
 * judges the findings, refuses it with 550 under `--strict` before anything
 * is written, parses it once if any output's format (or an expectation)
 * needs it, saves it to the Maildir, prints it to every output, and returns
 * only when every write has completed, so the 250 means "written". Any
 * failure to save or write throws OutputError: the client gets 451 and may
 * try again.
 */
import type { Finding } from '../lint/findings.js';
import { lintMessage } from '../lint/lint.js';
import { enforceStrict } from '../lint/strict.js';
import type { Message } from '../message.js';
import type { Maildir } from '../outputs/maildir.js';
import { describeIoError, OutputError, type Output } from '../outputs/output.js';
import { parseMessage, type ParsedMessage } from '../printers/parse-message.js';
import type { PrintContext } from '../printers/printer.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import type { Handler } from '../server.js';
import { formatDialogue } from '../transcript/print.js';

export interface OutputHandlerOptions {
  readonly outputs: readonly Output[];
  /** Where `--save-dir` delivers each message. */
  readonly maildir?: Maildir | undefined;
  /** `--json-raw`. */
  readonly includeRaw?: boolean;
  /** Where warnings go (default process.stderr). */
  readonly log?: NodeJS.WritableStream;
  /** `--lint`: human formats show the lint's findings too (JSON always carries them). */
  readonly showLint?: boolean;
  /** `--strict`: refuse a message with an error-severity finding with 550; it is written nowhere. */
  readonly strict?: boolean;
  /** Parse every message, even when no output's format needs it (expectations read parsed fields). */
  readonly parseAlways?: boolean;
  /** Called once a message has been written to every output, with what the printers were given. */
  readonly onWritten?: (message: Message, context: PrintContext) => void;
}

export class OutputHandler implements Handler {
  private readonly parses: boolean;
  /** Whether anything shows or judges findings: JSON always carries them. */
  private readonly lints: boolean;

  constructor(private readonly options: OutputHandlerOptions) {
    this.parses = (options.parseAlways ?? false) || options.outputs.some((o) => o.format.parses);
    this.lints = (options.showLint ?? false) || (options.strict ?? false) || (options.parseAlways ?? false) || options.outputs.some((o) => !o.format.human);
  }

  /** `extra` is added to what the printers get, e.g. the relay's outcome (src/handlers/relay.ts). */
  async handleMessage(message: Message, extra: PrintContext = {}): Promise<void> {
    // The relay's --strict check may have linted the message already (extra.lint).
    const lint: readonly Finding[] | undefined = this.lints ? (extra.lint ?? lintMessage(message)) : undefined;
    if (lint && this.options.strict) enforceStrict(lint);
    const context: PrintContext = {
      includeRaw: this.options.includeRaw ?? false,
      ...extra,
      ...(lint ? { lint } : {}),
      ...(this.parses ? await this.parse(message) : {}),
      ...(this.options.maildir ? { savedAs: await this.save(this.options.maildir, message) } : {}),
    };
    const writes = this.options.outputs.map(async ({ format, style, destination }) => {
      // Human formats show findings only with --lint, so that raw stays DebuggingServer's output.
      const shown = format.human && !this.options.showLint ? { ...context, lint: undefined } : context;
      // Outside the try: a printer that throws is a bug (451 and a stack trace), not an I/O failure.
      // `--transcript`: the dialogue that led to the message comes before it.
      const dialogue = format.human && message.dialogue ? formatDialogue(message.dialogue, style) : '';
      const printContext = { ...shown, style };
      const bytes = format.printBytes?.(message, printContext);
      const text = bytes === undefined ? dialogue + format.print(message, printContext) : dialogue === '' ? bytes : Buffer.concat([Buffer.from(dialogue), bytes]);
      try {
        await destination.write(text);
      } catch (err) {
        throw new OutputError(`cannot write to ${destination.name}: ${describeIoError(err)}`, { cause: err });
      }
    });
    // Every output is attempted; the first failure is reported.
    const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.options.onWritten?.(message, context);
  }

  /** The parsed message, or why it could not be parsed (with a warning: it is shown raw). */
  private async parse(message: Message): Promise<{ parsed: ParsedMessage } | { parseError: string }> {
    try {
      return { parsed: await parseMessage(message) };
    } catch (err) {
      const why = terminalSafe(err instanceof Error ? err.message : String(err));
      (this.options.log ?? process.stderr).write(`smtpd-ts: warning: message ${message.id} could not be parsed (${why}); shown raw\n`);
      return { parseError: why };
    }
  }

  private async save(maildir: Maildir, message: Message): Promise<string> {
    try {
      return await maildir.save(message);
    } catch (err) {
      throw new OutputError(`cannot save to Maildir ${maildir.dir}: ${describeIoError(err)}`, { cause: err });
    }
  }
}
