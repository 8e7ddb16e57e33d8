/**
 * An output is a format written to a destination: stdout, a file. The
 * OutputHandler (src/handlers/outputs.ts) writes each message to every output
 * and waits for every write before the 250.
 */
import type { Format } from '../printers/printer.js';
import type { Style } from '../printers/style.js';

/** What a destination is given for one message: one text, or the parts of one in order. */
export type Text = string | Uint8Array | readonly (string | Uint8Array)[];

/** The message a text shows, and where `--save-dir` saved it (`--workers`' primary withdraws it if need be). */
export interface TextOf {
  readonly id: string;
  readonly savedAs?: string | undefined;
}

/**
 * Somewhere text goes. `write` resolves once the text is written, or
 * rejects; the parts of one write are never interleaved with another's.
 */
export interface Destination {
  /** For messages: `stdout`, or the file's path. */
  readonly name: string;
  /** Whether it is a terminal (colour is on by default only there). */
  readonly isTTY: boolean;
  /** `of`: the message `text` shows, when it shows one (not for notices). */
  write(text: Text, of?: TextOf): Promise<void>;
  /** Releases the destination (closes a file; leaves stdout open). */
  close(): Promise<void>;
}

/** One format, styled, written to one destination. */
export interface Output {
  readonly format: Format;
  readonly style: Style;
  readonly destination: Destination;
}

/**
 * A system error in words: `no space left on device (ENOSPC)` from Node's
 * `ENOSPC: no space left on device, write`.
 */
export function describeIoError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code } = err as NodeJS.ErrnoException;
  if (code === undefined || !err.message.startsWith(`${code}: `)) return err.message;
  const words = err.message.slice(code.length + 2);
  // Node appends `, <syscall>` and maybe ` '<path>'`: cut before the first
  // `, word` that ends the text or is followed by the path.
  for (let at = words.indexOf(', '); at >= 0; at = words.indexOf(', ', at + 1)) {
    const rest = words.slice(at + 2);
    const space = rest.indexOf(' ');
    const syscall = space < 0 ? rest : rest.slice(0, space);
    if (/^\w+$/.test(syscall) && (space < 0 || rest[space + 1] === "'")) return `${words.slice(0, at)} (${code})`;
  }
  return `${words} (${code})`;
}
