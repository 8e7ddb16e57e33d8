/**
 * The sink's flags from three places, by one rule: the command line, then
 * an environment variable per long flag (`--save-dir` is
 * `SMTPD_TS_SAVE_DIR`), then a config file (`--config FILE`, or
 * `SMTPD_TS_CONFIG`: lines of `name = value`). A flag given in a higher
 * place replaces it in the lower ones (a repeatable flag too), and the
 * others are turned into command-line tokens before the command line's,
 * so commander reads every value the same way. Where each flag came from
 * is kept, so that a bad value names its source.
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

/** The variables' prefix: `SMTPD_TS_` and the long flag's name, upper case, `-` as `_`. */
export const ENV_PREFIX = 'SMTPD_TS_';

/** Where a flag's value came from, when not the command line. */
export type FlagSource = ({ readonly env: string } | { readonly file: string; readonly line: number }) & {
  /** The value as written there. */
  readonly value: string;
};

export interface LayeredArgv {
  /** The file's and the environment's flags as tokens, then the command line. */
  readonly argv: string[];
  /** Each flag (long name, without `--`) that the environment or the file gave, and where. */
  readonly sources: ReadonlyMap<string, FlagSource>;
}

/** The flags that are not settings: never read from the environment or a file. */
const NOT_SETTINGS = new Set(['help', 'version', 'config']);

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** A flag's setting name: its long name without `--` (and without `no-` for a negation). */
function settingName(option: Option): string {
  const long = option.long!.replace(/^--/, '');
  return option.negate ? long.replace(/^no-/, '') : long;
}

/** The environment variable of a setting: `save-dir` → `SMTPD_TS_SAVE_DIR`. */
export function envName(setting: string): string {
  return `${ENV_PREFIX}${setting.toUpperCase().replaceAll('-', '_')}`;
}

/** The settings the command has (one per flag, a negation sharing its flag's), each with its options. */
function settingsOf(cmd: Command): Map<string, Option[]> {
  const out = new Map<string, Option[]>();
  for (const option of cmd.options) {
    if (!option.long) continue;
    const name = settingName(option);
    if (NOT_SETTINGS.has(name)) continue;
    out.set(name, [...(out.get(name) ?? []), option]);
  }
  return out;
}

/** The settings the command line gives (by long or short flag), and the config file it names. */
function onCommandLine(cmd: Command, argv: readonly string[]): { given: Set<string>; config: string | null } {
  const given = new Set<string>();
  let config: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    let option: Option | undefined;
    let inline = false;
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!;
      option = cmd.options.find((o) => o.long === `--${name}`);
      inline = token.includes('=');
    } else if (/^-[^-]/.test(token)) {
      // Short flags, perhaps several (`-dn`): the first that takes a value takes the rest.
      for (let at = 1; at < token.length; at++) {
        option = cmd.options.find((o) => o.short === `-${token[at]}`);
        if (!option) break;
        if (option.long) given.add(settingName(option));
        if (option.required || option.optional) {
          inline = at < token.length - 1;
          break;
        }
      }
    }
    if (!option?.long) continue;
    const name = settingName(option);
    if (name === 'config' && !inline) config = argv[i + 1] ?? null;
    else if (name === 'config') config = token.slice(token.indexOf('=') + 1);
    given.add(name);
    // A value in the next token is skipped (an optional one only when it does not look like a flag).
    if (!inline && (option.required || (option.optional && !(argv[i + 1] ?? '-').startsWith('-')))) i++;
  }
  return { given, config };
}

/** Tokens for one setting's value from the environment or a file; `where` names it in an error. */
function tokensFor(options: readonly Option[], value: string, where: string, repeatable: boolean): string[] {
  const flag = options.find((o) => !o.negate);
  const negation = options.find((o) => o.negate);
  if (!flag || (!flag.required && !flag.optional)) {
    // A switch: on is its flag (none for a lone `--no-x`, on by default), off its negation when it has one.
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return flag ? [flag.long!] : [];
    if (FALSE.has(v) || v === '') return negation ? [negation.long!] : [];
    const named = (flag ?? negation)!.long!;
    throw new UsageError(`${where}: ${named} is a switch: 1 or 0 (true, false, yes, no), not '${value}'`);
  }
  if (flag.optional && ['', ...TRUE].includes(value.trim().toLowerCase())) return [flag.long!];
  const values = repeatable ? value.split('\n').filter((v) => v.trim() !== '') : [value];
  return values.map((v) => `${flag.long!}=${v}`);
}

/** Whether a flag may be given more than once (its help says so, as every repeatable flag's does). */
const isRepeatable = (options: readonly Option[]) => options.some((o) => /\brepeatable\b/.test(o.description));

/** The setting of a config file line (a flag's name with or without `--`), or an error naming the line. */
function fileSetting(settings: Map<string, Option[]>, raw: string, where: string): string {
  const name = raw.replace(/^--/, '');
  if (settings.has(name)) return name;
  const near = [...settings.keys()].find((s) => s.startsWith(name.slice(0, 4)));
  throw new UsageError(`${where}: no such setting '${raw}'${near ? ` (did you mean ${near}?)` : ''}`);
}

/** Reads the config file: `name = value` (or `name` alone for a switch), `#` comment lines, blank lines. */
function readConfig(
  settings: Map<string, Option[]>,
  file: string,
  skip: ReadonlySet<string>,
): { tokens: string[]; sources: Map<string, FlagSource> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const tokens: string[] = [];
  const sources = new Map<string, FlagSource>();
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `${file} line ${index + 1}`;
    const eq = trimmed.indexOf('=');
    const name = fileSetting(settings, (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim(), where);
    if (skip.has(name)) return;
    const options = settings.get(name)!;
    const value = eq < 0 ? 'true' : trimmed.slice(eq + 1).trim();
    // A repeated line of a repeatable flag adds a value; of another flag, the last line wins (as on the command line).
    tokens.push(...tokensFor(options, value, where, false));
    if (!sources.has(name) || !isRepeatable(options)) sources.set(name, { file, line: index + 1, value });
  });
  return { tokens, sources };
}

/** The command line with the environment's and the config file's flags under it (see above). */
export function layeredArgv(cmd: Command, argv: readonly string[], env: NodeJS.ProcessEnv): LayeredArgv {
  const settings = settingsOf(cmd);
  const { given, config } = onCommandLine(cmd, argv);
  const sources = new Map<string, FlagSource>();
  const envTokens: string[] = [];
  for (const [name, options] of settings) {
    const variable = envName(name);
    const value = env[variable];
    if (value === undefined || given.has(name)) continue;
    envTokens.push(...tokensFor(options, value, variable, isRepeatable(options)));
    sources.set(name, { env: variable, value });
  }
  const file = config ?? env[envName('config')] ?? null;
  const fromFile = file === null ? null : readConfig(settings, file, new Set([...given, ...sources.keys()]));
  for (const [name, source] of fromFile?.sources ?? []) sources.set(name, source);
  return { argv: [...(fromFile?.tokens ?? []), ...envTokens, ...argv], sources };
}

/**
 * `message` with where the flag it is about came from, when that was the
 * environment or a config file: the flag it names, or else the value it
 * quotes (`unknown format 'jsn'`).
 */
export function withSource(message: string, sources: ReadonlyMap<string, FlagSource>): string {
  const names = (name: string) => {
    const at = message.indexOf(`--${name}`);
    return at >= 0 && !/[a-z-]/.test(message[at + name.length + 2] ?? '');
  };
  const all = [...sources];
  const found =
    all.find(([name]) => names(name)) ?? all.find(([, s]) => s.value !== '' && message.includes(`'${s.value}'`));
  if (!found) return message;
  const source = found[1];
  return `${message} (from ${'env' in source ? source.env : `${source.file} line ${source.line}`})`;
}

/** The help's section on variables and the config file: the rule, then every variable's name. */
export function environmentHelp(cmd: Command): string {
  const names = [...settingsOf(cmd).keys(), 'config'].map(envName);
  const lines: string[] = [];
  let line = ' ';
  for (const name of names) {
    if (line.length + name.length + 1 > 100) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${name}`;
  }
  lines.push(line);
  return [
    '',
    'Environment and config file:',
    '  Every flag is also read from SMTPD_TS_ and its long name (--save-dir: SMTPD_TS_SAVE_DIR; a switch takes',
    '  1 or 0; a repeatable flag one value a line), and from a line `name = value` of --config FILE',
    '  (docs/configuration.md). Flags win over variables, variables over the file. The variables:',
    ...lines,
    '',
  ].join('\n');
}
