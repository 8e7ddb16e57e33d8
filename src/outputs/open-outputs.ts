/**
 * Turns the output settings of a Config into open outputs: files opened for
 * appending, the Maildir created, colour decided (and chalk loaded) per
 * output. Called once at start, so a path that cannot be opened stops the
 * start with one clear line instead of failing every message.
 */
import { fstatSync, statSync } from 'node:fs';
import os from 'node:os';
import type { Format } from '../printers/printer.js';
import { FORMATS, type FormatName } from '../printers/registry.js';
import { loadColorStyle, PLAIN, wantsColor, type Style } from '../printers/style.js';
import { FileDestination } from './file-destination.js';
import { Maildir } from './maildir.js';
import { describeIoError, type Destination, type Output } from './output.js';
import { StreamDestination } from './stream-destination.js';
import { OutputError } from '../errors.js';

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
  /** Resolves when stdout is an output and its reader has gone (EPIPE); never otherwise. */
  readonly stdoutGone: Promise<void>;
}

/** The device and inode a destination writes to, or null where that does not matter (/dev/null) or cannot be known. */
async function fileIdentity(destination: Destination, stdout: NodeJS.WritableStream): Promise<string | null> {
  try {
    const stat =
      destination instanceof FileDestination
        ? await destination.stat()
        : destination instanceof StreamDestination && stdout === process.stdout
          ? fstatSync(1)
          : null;
    if (stat === null) return null;
    const devNull = statSync('/dev/null', { throwIfNoEntry: false });
    if (devNull && stat.dev === devNull.dev && stat.ino === devNull.ino) return null;
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}

/** Opens the destination of the output at `index` of the settings. */
export type OpenDestination = (spec: OutputSpec, index: number) => Promise<Destination>;

function openDestination(stdout: NodeJS.WritableStream): OpenDestination {
  return (spec) =>
    spec.path === null ? Promise.resolve(new StreamDestination(stdout)) : FileDestination.open(spec.path);
}

/**
 * Opens every output; rejects with OutputError (closing what it opened) when
 * a file or the Maildir cannot be opened.
 */
export async function openOutputs(
  settings: OutputSettings,
  stdout: NodeJS.WritableStream,
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** The host name in Maildir file names. */
  hostname = os.hostname(),
  /** How each destination is opened (`--workers`: each worker's are the primary's, src/cli/workers/). */
  open: OpenDestination = openDestination(stdout),
): Promise<OpenedOutputs> {
  const destinations: Destination[] = [];
  const close = async () => {
    await Promise.all(destinations.map((d) => d.close()));
  };
  try {
    const outputs: Output[] = [];
    let color: Style | undefined;
    const seen = new Map<string, string>();
    for (const [index, spec] of settings.outputs.entries()) {
      const destination = await open(spec, index);
      destinations.push(destination);
      // `./f`, `f`, a symlink to it, `a/../f` and /dev/stdout are told apart
      // by the file they open, not by their spelling.
      const id = await fileIdentity(destination, stdout);
      const name = spec.path ?? 'stdout';
      if (id !== null && seen.has(id))
        throw new OutputError(`two outputs write to the same file: ${seen.get(id)} and ${name}`);
      if (id !== null) seen.set(id, name);
      const format: Format = FORMATS[spec.format];
      const colored = format.human && wantsColor({ flag: settings.color, env, isTTY: destination.isTTY });
      const style = colored ? (color ??= await loadColorStyle()) : PLAIN;
      outputs.push({ format, style, destination });
    }
    let maildir: Maildir | undefined;
    if (settings.saveDir !== null) {
      maildir = new Maildir(settings.saveDir, hostname);
      await maildir.open().catch((err: unknown) => {
        throw new OutputError(`cannot create Maildir ${settings.saveDir}: ${describeIoError(err)}`, { cause: err });
      });
    }
    const checkWritable = async () => {
      await maildir?.checkWritable().catch((err: unknown) => {
        throw new OutputError(`cannot write to Maildir ${maildir.dir}: ${describeIoError(err)}`, { cause: err });
      });
    };
    const stdoutGone = destinations.find((d) => d instanceof StreamDestination)?.gone ?? new Promise<void>(() => {});
    return { outputs, maildir, checkWritable, close, stdoutGone };
  } catch (err) {
    await close();
    throw err;
  }
}
