/**
 * Flags to Config: a pure function from what commander parsed to a typed,
 * validated configuration. Every bad value throws UsageError with one line
 * naming the flag; nothing here touches the network or the file system.
 */
import { toSmtpSettings, type SmtpCliOptions, type SmtpSettingsFromFlags } from './smtp-settings.js';
import { parseCountRange, parseExpectation, type CountRange, type Expectation } from '../expect/parse.js';
import type { OutputSettings, OutputSpec } from '../outputs/open-outputs.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from '../printers/registry.js';
import { toRelaySettings, type RelayCliOptions, type RelaySettings } from './relay-settings.js';
import { toInboxSettings, type InboxCliOptions, type InboxCliSettings } from './inbox-settings.js';
import { toRuleSettings, type RuleCliOptions, type RuleSettings } from './rule-settings.js';
import { toMailboxSettings, type MailboxSettings } from './mailbox-settings.js';
import type { RunControl } from './run-control.js';
import { ExpectSyntaxError, UsageError } from '../errors.js';
import { toWebhookSettings, type WebhookCliOptions } from './webhook-settings.js';
import { toPop3Settings, type Pop3CliOptions, type Pop3CliSettings } from './pop3-settings.js';
import type { WebhookSettings } from '../http/webhook.js';
import { didYouMean, optionalPath, parseHostPort, seconds, wholeNumber, type HostPort } from './flag-values.js';

/** The `-c` classes smtpd-ts provides. */
export const SERVER_CLASSES = ['DebuggingServer', 'PureProxy'] as const;
export type ServerClassName = (typeof SERVER_CLASSES)[number];

export const DEFAULT_LOCAL = '127.0.0.1:1025';
export const DEFAULT_REMOTE = 'localhost:25';

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
export interface Config extends OutputSettings, RunControl, SenderChecks, SmtpSettingsFromFlags {
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly className: ServerClassName;
  readonly debug: boolean;
  /** `-n` not given: privileges may be dropped (see `user`). */
  readonly setuid: boolean;
  /** `--user`: drop to this user after binding, wherever it listens; null: `nobody`, only as root below port 1024. */
  readonly user: string | null;
  /** `--json-raw`: JSON output carries the raw message, base64. */
  readonly jsonRaw: boolean;
  /** `--json-refusals`: JSON outputs get a `refusal` line for each refusal (stderr always does). */
  readonly jsonRefusals: boolean;
  /** PureProxy, `--relay*` and `--deliver*` (relay-settings.ts). */
  readonly relay: RelaySettings;
  /** `--workers`: processes sharing the listening socket (src/cli/workers/); 1: this process alone. */
  readonly workers: number;
  /** `--pop3` and its flags; null without it. */
  readonly pop3: Pop3CliSettings | null;
  /** `--webhook` and its flags; null without it. */
  readonly webhook: WebhookSettings | null;
  /** `--metrics`: on the inbox's HTTP server (`inbox`), on an address of its own, or null: none. */
  readonly metrics: 'inbox' | HostPort | null;
  /** `--http` and its inbox's flags (inbox-settings.ts); null: no inbox, no API. */
  readonly inbox: InboxCliSettings | null;
  /** `--reply`, `--rules`, `--seed`, `--connection-rate`, `--transcript` (rule-settings.ts). */
  readonly rules: RuleSettings;
  /** `--mailbox`, `--mailbox-file` (mailbox-settings.ts). */
  readonly mailboxes: MailboxSettings;
}

/** Options as commander gives them (strings; validated here). */
export interface CliOptions
  extends RelayCliOptions, SmtpCliOptions, RuleCliOptions, InboxCliOptions, WebhookCliOptions, Pop3CliOptions {
  nosetuid?: boolean;
  class: string;
  debug?: boolean;
  format?: string;
  output?: string[];
  jsonRaw?: boolean;
  jsonRefusals?: boolean;
  saveDir?: string;
  color?: boolean;
  exitAfter?: string;
  timeout?: string;
  readyFile?: string;
  pidFile?: string;
  user?: string;
  lint?: boolean;
  strict?: boolean;
  expect?: string[];
  expectCount?: string;
  workers?: string;
  metrics?: string | boolean;
  /** Mailpit's name for the address to listen on. */
  smtp?: string;
  mailbox?: string[];
  mailboxFile?: string;
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

/** What to say about a `-c` class smtpd-ts does not have: smtpd's other classes get what replaces them. */
function unknownClass(name: string): string {
  if (name === 'MailmanProxy') {
    return "smtpd's MailmanProxy is not provided: to hand messages to Mailman or any program, use --deliver 'PATTERN=COMMAND'";
  }
  if (name === 'SMTPServer')
    return "SMTPServer is smtpd's base class: use -c DebuggingServer (the default) or PureProxy";
  return `unknown class '${name}'${didYouMean(name, SERVER_CLASSES)} (available: ${SERVER_CLASSES.join(', ')})`;
}

/**
 * `smtpd-ts wiat` is a mistyped command, not an address without a port: a
 * usage error that names the command meant.
 */
export function refuseUnknownCommand(word: string): void {
  if (!/^[a-z][a-z-]*$/i.test(word) || word === 'localhost') return;
  throw new UsageError(
    `unknown command '${word}'${didYouMean(word, COMMANDS)} (commands: ${COMMANDS.join(', ')}; an address is host:port)`,
  );
}

/** `host:port`, or a bare port on 127.0.0.1 (as `--http 8025` takes one). */
function address(spec: string, what: string): HostPort {
  return parseHostPort(/^[0-9]+$/.test(spec) ? `127.0.0.1:${spec}` : spec, what);
}

/** The commands besides the sink itself (dispatched in cli.ts before the flags are parsed). */
export const COMMANDS = ['wait', 'sendmail'] as const;

/** Turns parsed options and positional arguments into a Config. Pure. */
/** `value`, unless `--workers` is also given: `flag` runs in the one process that is the whole sink. */
function alone<T>(value: T | null, flag: string, workers: number): T | null {
  if (value !== null && workers > 1)
    throw new UsageError(`${flag} runs in a sink of one process, not with --workers: leave out one of them`);
  return value;
}

/** `--metrics` (on --http's server), `--metrics PORT` or `--metrics HOST:PORT` (a server of its own). */
function toMetrics(value: string | boolean | undefined, http: boolean, workers: number): Config['metrics'] {
  if (value === undefined) return null;
  if (workers > 1)
    throw new UsageError('--metrics counts the SMTP side of one process, not of --workers: leave out one of them');
  if (value === true) {
    if (!http)
      throw new UsageError('--metrics alone serves /metrics beside --http: give --http, or --metrics HOST:PORT');
    return 'inbox';
  }
  const spec = String(value);
  return parseHostPort(/^[0-9]+$/.test(spec) ? `127.0.0.1:${spec}` : spec, 'metrics');
}

export function toConfig(options: CliOptions, args: readonly string[]): Config {
  if (!(SERVER_CLASSES as readonly string[]).includes(options.class)) throw new UsageError(unknownClass(options.class));
  if (options.user !== undefined && options.nosetuid)
    throw new UsageError('--user and -n/--nosetuid contradict each other');
  const timeout = options.timeout === undefined ? null : seconds(options.timeout, '--timeout', 0) / 1000;
  if (timeout === 0) throw new UsageError('--timeout needs a number of seconds above 0');
  if (args[0] !== undefined) refuseUnknownCommand(args[0]);
  if (options.smtp !== undefined && args[0] !== undefined)
    throw new UsageError(`--smtp and the address '${args[0]}' both say where to listen: give one`);
  const local = address(options.smtp ?? args[0] ?? DEFAULT_LOCAL, 'local');
  const remote = address(args[1] ?? DEFAULT_REMOTE, 'remote');
  const rules = toRuleSettings(options);
  const workers = options.workers === undefined ? 1 : wholeNumber(options.workers, '--workers', 1, 1);
  if (workers > 1 && rules.rules.length > 0) {
    throw new UsageError(
      '--reply and --rules count messages across the whole run, which workers cannot share: leave out --workers',
    );
  }
  const inbox = toInboxSettings(options);
  return {
    local,
    remote,
    relay: toRelaySettings(options, options.class, remote, args[1] !== undefined, local),
    className: options.class as ServerClassName,
    debug: options.debug ?? false,
    setuid: !(options.nosetuid ?? false),
    user: optionalPath(options.user, '--user'),
    outputs: toOutputs(options),
    jsonRaw: options.jsonRaw ?? false,
    jsonRefusals: options.jsonRefusals ?? false,
    ...toSmtpSettings(options),
    saveDir: optionalPath(options.saveDir, '--save-dir'),
    color: options.color,
    exitAfter: options.exitAfter === undefined ? null : wholeNumber(options.exitAfter, '--exit-after', 0, 1),
    timeoutSeconds: timeout,
    readyFile: optionalPath(options.readyFile, '--ready-file'),
    pidFile: optionalPath(options.pidFile, '--pid-file'),
    lint: options.lint ?? false,
    strict: options.strict ?? false,
    ...expectations(options),
    rules,
    workers,
    inbox,
    metrics: toMetrics(options.metrics, inbox !== null, workers),
    webhook: alone(toWebhookSettings(options, inbox !== null), '--webhook', workers),
    pop3: alone(toPop3Settings(options, inbox !== null), '--pop3', workers),
    mailboxes: toMailboxSettings(options.mailbox, optionalPath(options.mailboxFile, '--mailbox-file') ?? undefined),
  };
}
