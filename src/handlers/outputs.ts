/**
 * The CLI's handler: lints the message (src/lint/) when anything shows or
 * judges the findings (unless `--strict`'s wrapper, strict.ts, did), parses
 * it once if any output's format (or an expectation) needs it, formats it
 * for every output, saves it to the Maildir, writes it to every output, and
 * returns only when every write has completed, so the 250 means "written".
 * Any failure to save or write throws OutputError: the client gets 451 and
 * may try again, and what was written is withdrawn.
 */
import { rm } from 'node:fs/promises';
import type { Finding } from '../lint/findings.js';
import { lintMessage } from '../lint/lint.js';
import type { Message } from '../message.js';
import type { Maildir, PlannedDelivery } from '../outputs/maildir.js';
import { describeIoError, type Output } from '../outputs/output.js';
import { jsonLine, withdrawalRecord } from '../printers/json.js';
import type { PrintContext } from '../printers/printer.js';
import { withdrawalLine } from '../printers/raw.js';
import { FORMATS, type FormatName } from '../printers/registry.js';
import { PLAIN } from '../printers/style.js';
import type { Handler } from '../server/server.js';
import { OFFLOAD_MIN_BYTES, RenderPool } from './render-pool.js';
import { prepare, renderOutput, type Rendered, type RenderSettings } from './render.js';
import { OutputError } from '../errors.js';
import { fromWire } from '../mime/parse-message.js';

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
  /**
   * Human formats print a message's dialogue (`--transcript`) before it when
   * it has one (default true); false when only the inbox wants it.
   */
  readonly showDialogue?: boolean;
  /** Parse every message, even when no output's format needs it (expectations read parsed fields). */
  readonly parseAlways?: boolean;
  /** Lint every message, even when no output shows the findings (expectations judge them). */
  readonly lintAlways?: boolean;
  /**
   * Format messages of OFFLOAD_MIN_BYTES and more in a worker thread, so
   * that a huge hostile message never holds up other clients (the CLI does;
   * only the built-in formats can be).
   */
  readonly offload?: boolean;
  /** Called once a message has been written to every output, with what the printers were given. */
  readonly onWritten?: (message: Message, context: PrintContext) => void;
  /**
   * Parse messages of this many bytes and more in the render worker even
   * when no output needs it, and give `onWritten` the parse in brief
   * (`context.brief`; whole with `parseAlways`): the inbox keeps it, so its
   * lists never wait on a large parse, and no large text crosses to the
   * server's thread for them.
   */
  readonly briefFrom?: number;
}

/**
 * What an output is given after a message that was written but not
 * accepted: a line for human formats, a `withdrawn` record for JSON.
 * `reply`: what the client got (`451`, or `no reply`).
 */
export function withdrawalNotice(
  output: Pick<Output, 'format' | 'style'>,
  id: string,
  reply: string,
  reason: string,
): string {
  return output.format.human
    ? withdrawalLine(`${reply}: ${reason}`, output.style)
    : jsonLine(withdrawalRecord(id, reason));
}

export class OutputHandler implements Handler {
  private readonly settings: RenderSettings;
  /** Formats large messages off this thread; null: everything is formatted here. */
  private readonly pool: RenderPool | null;

  constructor(private readonly options: OutputHandlerOptions) {
    const parses = (options.parseAlways ?? false) || options.outputs.some((o) => o.format.parses);
    // Whether anything shows or judges findings: JSON always carries them.
    const lints =
      (options.showLint ?? false) || (options.lintAlways ?? false) || options.outputs.some((o) => !o.format.human);
    this.settings = {
      parses,
      lints,
      showLint: options.showLint ?? false,
      includeRaw: options.includeRaw ?? false,
      showDialogue: options.showDialogue ?? true,
    };
    // Only the built-in formats and styles can be rebuilt in the worker by name.
    const builtIn = options.outputs.every((o) => FORMATS[o.format.name as FormatName] === o.format);
    this.pool = options.offload && builtIn ? new RenderPool() : null;
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
    const maildir = this.options.maildir;
    const planned = maildir?.plan(message.mailbox ?? null);
    const withPath = planned ? { ...extra, savedAs: planned.path } : extra;
    const size = message.data.length;
    const brief = size >= (this.options.briefFrom ?? Infinity);
    const settings = brief && !this.settings.parses ? { ...this.settings, parses: true } : this.settings;
    // Parsing and linting are what cannot be cut into parts: large messages that need them go to the worker.
    const offload = this.pool && (brief || (size >= OFFLOAD_MIN_BYTES && (settings.parses || settings.lints)));
    const { context, rendered } = offload
      ? await this.renderInWorker(this.pool!, message, withPath, settings)
      : await this.renderHere(message, withPath, settings);
    if (context.parseError !== undefined) {
      (this.options.log ?? process.stderr).write(
        `smtpd-ts: warning: message ${message.id} could not be parsed (${context.parseError}); shown raw\n`,
      );
    }
    if (maildir && planned) await this.save(maildir, message, planned);
    const results = await Promise.allSettled(
      this.options.outputs.map(async ({ destination }, i) => {
        try {
          await destination.write(rendered[i]!, { id: message.id, savedAs: planned?.path });
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

  /**
   * The lint's findings for `message`, in the render worker when it is large
   * (what `--strict` judges before this handler runs: strict.ts).
   */
  async lint(message: Message): Promise<readonly Finding[]> {
    if (!this.pool || message.data.length < OFFLOAD_MIN_BYTES) return lintMessage(message);
    const reply = await this.pool.render({
      message,
      extra: {},
      settings: { ...this.settings, lints: true, parses: false },
      outputs: [],
      wantParsed: false,
    });
    return reply.lint ?? [];
  }

  /** Stops the render worker, if one was started. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Lints, parses and formats every output in this thread. */
  private async renderHere(
    message: Message,
    extra: PrintContext,
    settings: RenderSettings,
  ): Promise<{ context: PrintContext; rendered: Rendered[] }> {
    const context = await prepare(message, extra, settings);
    // Outside any try: a printer that throws is a bug (451 and a stack trace), not an I/O failure.
    const rendered: Rendered[] = [];
    for (const { format, style } of this.options.outputs)
      rendered.push(await renderOutput(format, style, message, context, settings));
    return { context, rendered };
  }

  /** The same in the render worker; the findings come back. */
  private async renderInWorker(
    pool: RenderPool,
    message: Message,
    extra: PrintContext,
    settings: RenderSettings,
  ): Promise<{ context: PrintContext; rendered: Rendered[] }> {
    const reply = await pool.render({
      // The dialogue and the envelope go along; `data` is copied once.
      message,
      extra,
      settings,
      outputs: this.options.outputs.map((o) => ({ format: o.format.name as FormatName, colored: o.style !== PLAIN })),
      wantParsed: this.options.onWritten !== undefined && (this.options.parseAlways ?? false),
      wantBrief: this.options.onWritten !== undefined,
    });
    // As prepare() (render.ts) builds it in this thread, field for field.
    const context: PrintContext = {
      includeRaw: settings.includeRaw,
      ...extra,
      ...(reply.lint ? { lint: reply.lint } : {}),
      ...(reply.parseError !== undefined ? { parseError: reply.parseError } : {}),
      ...(reply.parsed ? { parsed: fromWire(reply.parsed) } : {}),
      ...(reply.brief ? { brief: reply.brief } : {}),
    };
    return { context, rendered: reply.rendered.map((r) => [r]) };
  }

  /**
   * After a failed write: removes the Maildir copy and tells each output
   * that has the message that it was not accepted.
   */
  private async withdraw(
    message: Message,
    results: readonly PromiseSettledResult<void>[],
    failure: OutputError,
    savedAs: string | undefined,
  ): Promise<void> {
    const log = this.options.log ?? process.stderr;
    if (savedAs !== undefined) await rm(savedAs, { force: true }).catch(() => {});
    await Promise.all(
      this.options.outputs.map(async ({ format, style, destination }, i) => {
        if (results[i]!.status !== 'fulfilled') return;
        await destination
          .write(withdrawalNotice({ format, style }, message.id, '451', failure.message))
          .catch((err: unknown) => {
            log.write(
              `smtpd-ts: cannot withdraw message ${message.id} from ${destination.name}: ${describeIoError(err)}\n`,
            );
          });
      }),
    );
  }

  private async save(maildir: Maildir, message: Message, planned: PlannedDelivery): Promise<void> {
    try {
      await maildir.save(message, planned);
    } catch (err) {
      throw new OutputError(`cannot save to Maildir ${maildir.dir}: ${describeIoError(err)}`, { cause: err });
    }
  }
}
