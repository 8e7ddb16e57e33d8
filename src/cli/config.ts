/**
 * Flags to Config: a pure function from what commander parsed to a typed,
 * validated configuration. Every bad value throws UsageError with one line
 * naming the flag; nothing here touches the network or the file system.
 */
import { DATA_SIZE_DEFAULT } from '../channel/types.js';
import type { Timeouts } from '../server/connection.js';
import { toExtensionSettings, type ExtensionCliOptions, type ExtensionSettings } from './extension-settings.js';
import { parseCountRange, parseExpectation, type CountRange, type Expectation } from '../expect/parse.js';
import type { OutputSettings, OutputSpec } from '../outputs/open-outputs.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from '../printers/registry.js';
import { toRelaySettings, type RelayCliOptions, type RelaySettings } from './relay-settings.js';
import { toRuleSettings, type RuleCliOptions, type RuleSettings } from './rule-settings.js';
import type { RunControl } from './run-control.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RECIPIENTS, DEFAULT_TIMEOUTS } from '../server/server.js';
import { ExpectSyntaxError, UsageError } from '../errors.js';
import { optionalPath, parseHostPort, seconds, wholeNumber, type HostPort } from './flag-values.js';

/** The `-c` classes smtpd-ts provides. */
export const SERVER_CLASSES = ['DebuggingServer', 'PureProxy'] as const;
export type ServerClassName = (typeof SERVER_CLASSES)[number];

export const DEFAULT_LOCAL = '127.0.0.1:1025';
export const DEFAULT_REMOTE = 'localhost:25';

/** Server limits set by flags (issue: hardening). */
export interface Limits {
  readonly maxConnections: number;
  readonly maxRecipients: number;
  readonly maxMessagesPerConnection: number;
  readonly bareLineEndings: 'accept' | 'reject';
  /** In milliseconds. */
  readonly timeouts: Timeouts;
}

/** Testing the sender: the lint and the expectations judged at exit. */
export interface SenderChecks {
  /** `--lint`: human formats show the lint's findings (JSON always has them). */
  readonly lint: boolean;
  /** `--strict`: refuse messages with error-severity findings with 550. */
  readonly strict: boolean;
  /** `--expect-count`, or null. */
  readonly expectCount: CountRange | null;
  /** Every `--expect`, in order. */
  readonly expectations: readonly Expectation[];
}

/** Everything the CLI decides, as data. */
export interface Config extends OutputSettings, RunControl, Limits, SenderChecks {
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly className: ServerClassName;
  readonly dataSizeLimit: number;
  readonly smtputf8: boolean;
  readonly debug: boolean;
  /** `-n` not given: privileges may be dropped (see `user`). */
  readonly setuid: boolean;
  /** `--user`: drop to this user after binding, wherever it listens; null: `nobody`, only as root below port 1024. */
  readonly user: string | null;
  /** `--json-raw`: JSON output carries the raw message, base64. */
  readonly jsonRaw: boolean;
  /** TLS, AUTH, CHUNKING, enhanced codes, DSN, LMTP, PROXY (extension-settings.ts). */
  readonly extensions: ExtensionSettings;
  /** PureProxy, `--relay*` and `--deliver*` (relay-settings.ts). */
  readonly relay: RelaySettings;
  /** `--reply`, `--rules`, `--seed`, `--connection-rate`, `--transcript` (rule-settings.ts). */
  readonly rules: RuleSettings;
}

/** Options as commander gives them (strings; validated here). */
export interface CliOptions extends RelayCliOptions, ExtensionCliOptions, RuleCliOptions {
  nosetuid?: boolean;
  class: string;
  size?: string;
  debug?: boolean;
  smtputf8?: boolean;
  format?: string;
  output?: string[];
  jsonRaw?: boolean;
  saveDir?: string;
  color?: boolean;
  exitAfter?: string;
  timeout?: string;
  readyFile?: string;
  pidFile?: string;
  maxConnections?: string;
  maxRecipients?: string;
  maxMessagesPerConnection?: string;
  commandTimeout?: string;
  dataTimeout?: string;
  transactionTimeout?: string;
  bareLf?: string;
  user?: string;
  lint?: boolean;
  strict?: boolean;
  expect?: string[];
  expectCount?: string;
}

/**
 * Parses `--output [FORMAT:]FILE`: FORMAT is one of FORMAT_NAMES (default
 * `defaultFormat`), FILE `-` is stdout. A prefix that is not a format name is
 * part of the file name (`./json:x` names a file `json:x`).
 */
function parseOutputSpec(spec: string, defaultFormat: FormatName): OutputSpec {
  const colon = spec.indexOf(':');
  const prefix = spec.slice(0, Math.max(colon, 0));
  const [format, file] = isFormatName(prefix) ? [prefix, spec.slice(colon + 1)] : [defaultFormat, spec];
  if (file === '') throw new UsageError(`bad --output '${spec}': expected [FORMAT:]FILE, FILE '-' for stdout`);
  return { format, path: file === '-' ? null : file };
}

/** The outputs the flags ask for: `--format` to stdout unless `--output` says otherwise. */
function toOutputs(options: CliOptions): OutputSpec[] {
  const format = options.format ?? 'raw';
  if (!isFormatName(format)) throw new UsageError(`unknown format '${format}' (available: ${FORMAT_NAMES.join(', ')})`);
  const specs = (options.output ?? ['-']).map((o) => parseOutputSpec(o, format));
  const seen = new Set<string | null>();
  for (const { path: p } of specs) {
    // /dev/null may take anything twice; other spellings of one file are caught when the outputs are opened.
    if (seen.has(p) && p !== '/dev/null') throw new UsageError(`two outputs write to ${p ?? 'stdout'}`);
    seen.add(p);
  }
  return specs;
}

function bareLf(value: string | undefined): 'accept' | 'reject' {
  if (value === undefined || value === 'accept' || value === 'reject') return value ?? 'accept';
  throw new UsageError(`--bare-lf takes accept or reject, not '${value}'`);
}

/** `--expect` and `--expect-count`, parsed; a bad one is a usage error naming the bad part. */
function expectations(options: CliOptions): Pick<SenderChecks, 'expectCount' | 'expectations'> {
  try {
    return {
      expectCount: options.expectCount === undefined ? null : parseCountRange(options.expectCount),
      expectations: (options.expect ?? []).map(parseExpectation),
    };
  } catch (err) {
    if (err instanceof ExpectSyntaxError) throw new UsageError(err.message);
    throw err;
  }
}

/** Turns parsed options and positional arguments into a Config. Pure. */
export function toConfig(options: CliOptions, args: readonly string[]): Config {
  if (!(SERVER_CLASSES as readonly string[]).includes(options.class)) {
    throw new UsageError(`unknown class '${options.class}' (available: ${SERVER_CLASSES.join(', ')})`);
  }
  if (options.size !== undefined && !/^[0-9]+$/.test(options.size)) {
    throw new UsageError(`invalid size: '${options.size}' (bytes, 0 for no limit)`);
  }
  if (options.user !== undefined && options.nosetuid)
    throw new UsageError('--user and -n/--nosetuid contradict each other');
  const timeout = options.timeout === undefined ? null : seconds(options.timeout, '--timeout', 0) / 1000;
  if (timeout === 0) throw new UsageError('--timeout needs a number of seconds above 0');
  const local = parseHostPort(args[0] ?? DEFAULT_LOCAL, 'local');
  const remote = parseHostPort(args[1] ?? DEFAULT_REMOTE, 'remote');
  return {
    local,
    remote,
    relay: toRelaySettings(options, options.class, remote, args[1] !== undefined, local),
    className: options.class as ServerClassName,
    dataSizeLimit: options.size === undefined ? DATA_SIZE_DEFAULT : Number(options.size),
    smtputf8: options.smtputf8 ?? false,
    debug: options.debug ?? false,
    setuid: !(options.nosetuid ?? false),
    user: optionalPath(options.user, '--user'),
    outputs: toOutputs(options),
    jsonRaw: options.jsonRaw ?? false,
    extensions: toExtensionSettings(options),
    saveDir: optionalPath(options.saveDir, '--save-dir'),
    color: options.color,
    exitAfter: options.exitAfter === undefined ? null : wholeNumber(options.exitAfter, '--exit-after', 0, 1),
    timeoutSeconds: timeout,
    readyFile: optionalPath(options.readyFile, '--ready-file'),
    pidFile: optionalPath(options.pidFile, '--pid-file'),
    maxConnections: wholeNumber(options.maxConnections, '--max-connections', DEFAULT_MAX_CONNECTIONS),
    maxRecipients: wholeNumber(options.maxRecipients, '--max-recipients', DEFAULT_MAX_RECIPIENTS),
    maxMessagesPerConnection: wholeNumber(options.maxMessagesPerConnection, '--max-messages-per-connection', 0),
    bareLineEndings: bareLf(options.bareLf),
    timeouts: {
      command: seconds(options.commandTimeout, '--command-timeout', DEFAULT_TIMEOUTS.command),
      data: seconds(options.dataTimeout, '--data-timeout', DEFAULT_TIMEOUTS.data),
      transaction: seconds(options.transactionTimeout, '--transaction-timeout', DEFAULT_TIMEOUTS.transaction),
    },
    lint: options.lint ?? false,
    strict: options.strict ?? false,
    ...expectations(options),
    rules: toRuleSettings(options),
  };
}
