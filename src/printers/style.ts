/**
 * Colour for the human formats. Printers take a Style and wrap only our own
 * text with it (the framing, header names, the subject), after the message's
 * text has been through terminalSafe(): colour can never let a message's own
 * escape sequences through.
 */

/** How a printer decorates its own text. Each function returns its argument wrapped, or as is. */
export interface Style {
  /** The framing lines (`---------- MESSAGE FOLLOWS ----------` and its end). */
  readonly frame: (text: string) => string;
  /** A header name, without its colon. */
  readonly headerName: (text: string) => string;
  /** The value of the Subject header. */
  readonly subject: (text: string) => string;
  /** A transcript line from the client (`--transcript`); absent: plain. */
  readonly client?: (text: string) => string;
  /** A transcript line from the server; absent: plain. */
  readonly server?: (text: string) => string;
}

const same = (text: string): string => text;

/** No colour: every function returns its argument. */
export const PLAIN: Style = { frame: same, headerName: same, subject: same };

/** What decides whether an output is coloured. */
export interface ColorContext {
  /** `--color` (true), `--no-color` (false), or neither (undefined). */
  readonly flag: boolean | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether the output is a terminal. */
  readonly isTTY: boolean;
}

/**
 * Whether to colour an output: the flag wins; then FORCE_COLOR (on, unless
 * `0` or `false`, as chalk reads it); then NO_COLOR when set and not empty
 * (https://no-color.org); else only a terminal is coloured.
 */
export function wantsColor({ flag, env, isTTY }: ColorContext): boolean {
  if (flag !== undefined) return flag;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return isTTY;
}

/**
 * The coloured Style. chalk is loaded here, on first use, and not at the top
 * of the module: most runs print to a pipe or a file without colour, and
 * `import 'smtpd-ts'` must not load it.
 */
export async function loadColorStyle(): Promise<Style> {
  const { Chalk } = await import('chalk');
  // We have decided colour is on (the caller checked the flag, the
  // environment and the terminal), so at least 16 colours even on a pipe.
  const chalk = new Chalk({ level: 1 });
  return {
    frame: chalk.cyan,
    headerName: chalk.bold,
    subject: chalk.bold.yellow,
    client: chalk.green,
    server: chalk.blue,
  };
}
