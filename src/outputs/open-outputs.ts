/**
 * Turns the output settings of a Config into open outputs: files opened for
 * appending, the Maildir created, colour decided (and chalk loaded) per
 * output. Called once at start, so a path that cannot be opened stops the
 * start with one clear line instead of failing every message.
 */
import type { Format } from '../printers/printer.js';
import { FORMATS, type FormatName } from '../printers/registry.js';
import { loadColorStyle, PLAIN, wantsColor, type Style } from '../printers/style.js';
import { FileDestination } from './file-destination.js';
import { Maildir } from './maildir.js';
import { describeIoError, OutputError, type Destination, type Output } from './output.js';
import { StreamDestination } from './stream-destination.js';

/** One `--output`: a format and a file, or stdout when `path` is null. */
export interface OutputSpec {
  readonly format: FormatName;
  readonly path: string | null;
}

export interface OutputSettings {
  readonly outputs: readonly OutputSpec[];
  /** `--save-dir`, or null. */
  readonly saveDir: string | null;
  /** `--color` / `--no-color`, or undefined to decide per output. */
  readonly color: boolean | undefined;
}

/** The opened outputs and Maildir, and how to close them at shutdown. */
export interface OpenedOutputs {
  readonly outputs: readonly Output[];
  readonly maildir: Maildir | undefined;
  /** Rejects with OutputError when the Maildir cannot be written (call after dropping privileges). */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

async function openDestination(spec: OutputSpec, stdout: NodeJS.WritableStream): Promise<Destination> {
  return spec.path === null ? new StreamDestination(stdout) : FileDestination.open(spec.path);
}

/**
 * Opens every output; rejects with OutputError (closing what it opened) when
 * a file or the Maildir cannot be opened.
 */
export async function openOutputs(
  settings: OutputSettings,
  stdout: NodeJS.WritableStream,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<OpenedOutputs> {
  const destinations: Destination[] = [];
  const close = async () => {
    await Promise.all(destinations.map((d) => d.close()));
  };
  try {
    const outputs: Output[] = [];
    let color: Style | undefined;
    for (const spec of settings.outputs) {
      const destination = await openDestination(spec, stdout);
      destinations.push(destination);
      const format: Format = FORMATS[spec.format];
      const colored = format.human && wantsColor({ flag: settings.color, env, isTTY: destination.isTTY });
      const style = colored ? (color ??= await loadColorStyle()) : PLAIN;
      outputs.push({ format, style, destination });
    }
    let maildir: Maildir | undefined;
    if (settings.saveDir !== null) {
      maildir = new Maildir(settings.saveDir);
      await maildir.open().catch((err: unknown) => {
        throw new OutputError(`cannot create Maildir ${settings.saveDir}: ${describeIoError(err)}`, { cause: err });
      });
    }
    const checkWritable = async () => {
      await maildir?.checkWritable().catch((err: unknown) => {
        throw new OutputError(`cannot write to Maildir ${maildir.dir}: ${describeIoError(err)}`, { cause: err });
      });
    };
    return { outputs, maildir, checkWritable, close };
  } catch (err) {
    await close();
    throw err;
  }
}
