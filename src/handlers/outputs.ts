/**
 * The CLI's handler: lints the message (src/lint/) when anything shows or
 * judges the findings, refuses it with 550 under `--strict` before anything
 * is written, parses it once if any output's format (or an expectation)
 * needs it, formats it for every output, saves it to the Maildir, writes it
 * to every output, and returns only when every write has completed, so the
 * 250 means "written". Any failure to save or write throws OutputError: the
 * client gets 451 and may try again, and what was written is withdrawn.
 */
import { rm } from 'node:fs/promises';
import type { Finding } from '../lint/findings.js';
import { lintMessage } from '../lint/lint.js';
import { enforceStrict } from '../lint/strict.js';
import type { Message } from '../message.js';
import type { Maildir, PlannedDelivery } from '../outputs/maildir.js';
import { describeIoError, OutputError, type Output } from '../outputs/output.js';
import { parseMessage, type ParsedMessage } from '../printers/parse-message.js';
import { jsonLine, withdrawalRecord } from '../printers/json.js';
import type { PrintContext } from '../printers/printer.js';
import { withdrawalLine } from '../printers/raw.js';
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

/** How long formatting may hold the event loop before other clients get a turn, in ms. */
const FORMAT_SLICE_MS = 8;

/** One output's text for one message, as parts. */
type Rendered = readonly (string | Uint8Array)[];

export class OutputHandler implements Handler {
  private readonly parses: boolean;
  /** Whether anything shows or judges findings: JSON always carries them. */
  private readonly lints: boolean;

  constructor(private readonly options: OutputHandlerOptions) {
    this.parses = (options.parseAlways ?? false) || options.outputs.some((o) => o.format.parses);
    this.lints = (options.showLint ?? false) || (options.strict ?? false) || (options.parseAlways ?? false) || options.outputs.some((o) => !o.format.human);
  }

  /**
   * Every output is formatted before anything is written, so a printer
   * that fails writes nothing; then the Maildir is written, then every
   * output. When a write fails after others succeeded, what was written is
   * withdrawn: the Maildir file removed, a withdrawal notice after the
   * message in each output that has it (docs: "When an output fails").
   * `extra` is added to what the printers get, e.g. the relay's outcome
   * (src/handlers/relay.ts).
   */
  async handleMessage(message: Message, extra: PrintContext = {}): Promise<void> {
    // The relay's --strict check may have linted the message already (extra.lint).
    const lint: readonly Finding[] | undefined = this.lints ? (extra.lint ?? lintMessage(message)) : undefined;
    if (lint && this.options.strict) enforceStrict(lint);
    const maildir = this.options.maildir;
    const planned = maildir?.plan();
    const context: PrintContext = {
      includeRaw: this.options.includeRaw ?? false,
      ...extra,
      ...(lint ? { lint } : {}),
      ...(this.parses ? await this.parse(message) : {}),
      ...(planned ? { savedAs: planned.path } : {}),
    };
    // Outside any try: a printer that throws is a bug (451 and a stack trace), not an I/O failure.
    const rendered: Rendered[] = [];
    for (const output of this.options.outputs) rendered.push(await this.render(output, message, context));
    if (maildir && planned) await this.save(maildir, message, planned);
    const results = await Promise.allSettled(
      this.options.outputs.map(async ({ destination }, i) => {
        try {
          await destination.write(rendered[i]!);
        } catch (err) {
          throw new OutputError(`cannot write to ${destination.name}: ${describeIoError(err)}`, { cause: err });
        }
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await this.withdraw(message, results, failed.reason as OutputError, planned?.path);
      throw failed.reason;
    }
    this.options.onWritten?.(message, context);
  }

  /** One output's text, computed a part at a time, letting other clients in every few milliseconds. */
  private async render({ format, style }: Output, message: Message, context: PrintContext): Promise<Rendered> {
    // Human formats show findings only with --lint, so that raw stays DebuggingServer's output.
    const shown = format.human && !this.options.showLint ? { ...context, lint: undefined } : context;
    const printContext = { ...shown, style };
    // `--transcript`: the dialogue that led to the message comes before it.
    const out: (string | Uint8Array)[] = format.human && message.dialogue ? [formatDialogue(message.dialogue, style)] : [];
    const parts = format.printParts?.(message, printContext);
    if (parts === undefined) {
      out.push(format.print(message, printContext));
      return out;
    }
    let since = performance.now();
    for (const part of parts) {
      out.push(part);
      if (performance.now() - since >= FORMAT_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        since = performance.now();
      }
    }
    return out;
  }

  /** After a failed write: removes the Maildir copy and tells each output that has the message that it was not accepted. */
  private async withdraw(message: Message, results: readonly PromiseSettledResult<void>[], failure: OutputError, savedAs: string | undefined): Promise<void> {
    const log = this.options.log ?? process.stderr;
    if (savedAs !== undefined) await rm(savedAs, { force: true }).catch(() => {});
    await Promise.all(
      this.options.outputs.map(async ({ format, style, destination }, i) => {
        if (results[i]!.status !== 'fulfilled') return;
        const notice = format.human ? withdrawalLine(failure.message, style) : jsonLine(withdrawalRecord(message, failure.message));
        await destination.write(notice).catch((err: unknown) => {
          log.write(`smtpd-ts: cannot withdraw message ${message.id} from ${destination.name}: ${describeIoError(err)}\n`);
        });
      }),
    );
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

  private async save(maildir: Maildir, message: Message, planned: PlannedDelivery): Promise<void> {
    try {
      await maildir.save(message, planned);
    } catch (err) {
      throw new OutputError(`cannot save to Maildir ${maildir.dir}: ${describeIoError(err)}`, { cause: err });
    }
  }
}
