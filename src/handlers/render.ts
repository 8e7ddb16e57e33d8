/**
 * Formatting a message for its outputs, the same in the server's thread and
 * in the render worker (render-worker.ts): lint and parse once into the
 * context every printer gets, then each output's text as parts, letting
 * other work in every few milliseconds.
 */
import type { Finding } from '../lint/findings.js';
import { lintMessage } from '../lint/lint.js';
import type { Message } from '../message.js';
import { parseMessage } from '../mime/parse-message.js';
import type { Format, PrintContext } from '../printers/printer.js';
import type { Style } from '../printers/style.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import { formatDialogue } from '../transcript/print.js';

/** How long formatting may hold the event loop before other work gets a turn, in ms. */
const FORMAT_SLICE_MS = 8;

/** One output's text for one message, as parts. */
export type Rendered = readonly (string | Uint8Array)[];

/** What formatting needs to know besides the outputs. */
export interface RenderSettings {
  /** Lint the message: something shows or judges the findings. */
  readonly lints: boolean;
  /** Parse it: a format (or an expectation) reads the parsed fields. */
  readonly parses: boolean;
  /** `--lint`: human formats show the findings too. */
  readonly showLint: boolean;
  /** `--json-raw`. */
  readonly includeRaw: boolean;
  /** `--transcript`: human formats print the dialogue before the message (the inbox keeps it without). */
  readonly showDialogue: boolean;
}

/**
 * The context the printers get: `extra` (the relay's outcome, the Maildir
 * path, `--strict`'s findings), the lint's findings and the parsed message,
 * or why it could not be parsed.
 */
export async function prepare(message: Message, extra: PrintContext, settings: RenderSettings): Promise<PrintContext> {
  // --strict's wrapper has linted the message already (extra.lint).
  const lint: readonly Finding[] | undefined = settings.lints ? (extra.lint ?? lintMessage(message)) : undefined;
  let parsed: Pick<PrintContext, 'parsed' | 'parseError'> = {};
  if (settings.parses) {
    try {
      parsed = { parsed: await parseMessage(message) };
    } catch (err) {
      parsed = { parseError: terminalSafe(err instanceof Error ? err.message : String(err)) };
    }
  }
  return { includeRaw: settings.includeRaw, ...extra, ...(lint ? { lint } : {}), ...parsed };
}

/** One output's text: the transcript's dialogue before it, then what the format prints, a part at a time. */
export async function renderOutput(
  format: Format,
  style: Style,
  message: Message,
  context: PrintContext,
  settings: Pick<RenderSettings, 'showLint' | 'showDialogue'>,
): Promise<Rendered> {
  // Human formats show findings only with --lint, so that raw stays DebuggingServer's output.
  const shown = format.human && !settings.showLint ? { ...context, lint: undefined } : context;
  const printContext = { ...shown, style };
  // `--transcript`: the dialogue that led to the message comes before it.
  const out: (string | Uint8Array)[] =
    format.human && settings.showDialogue && message.dialogue ? [formatDialogue(message.dialogue, style)] : [];
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
