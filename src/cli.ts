/**
 * The command line: commander parses, `toConfig` turns the options into a
 * typed Config (pure, throws UsageError), and `main` runs the server until a
 * signal. `bin/smtpd-ts.js` only calls `main(process.argv.slice(2))`.
 */
import { Command, CommanderError, Option } from 'commander';
import net from 'node:net';
import { DATA_SIZE_DEFAULT } from './channel/types.js';
import { OutputHandler } from './handlers/outputs.js';
import { openOutputs, type OutputSettings, type OutputSpec } from './outputs/open-outputs.js';
import { OutputError } from './outputs/output.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from './printers/registry.js';
import { SMTPServer } from './server.js';
import { VERSION } from './version.js';

/** Exit codes, documented in the README. */
export const EXIT = { OK: 0, START_FAILED: 1, USAGE: 2 } as const;

/** A bad flag or argument: one line on stderr and exit 2. */
export class UsageError extends Error {
  readonly code = 'ERR_SMTPD_USAGE';
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything the CLI decides, as data. */
export interface Config extends OutputSettings {
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly className: ServerClassName;
  readonly dataSizeLimit: number;
  readonly smtputf8: boolean;
  readonly debug: boolean;
  /** Drop privileges to `nobody` when started as root on a port below 1024 (smtpd's default without -n). */
  readonly setuid: boolean;
  /** `--json-raw`: JSON output carries the raw message, base64. */
  readonly jsonRaw: boolean;
}

/** The `-c` classes smtpd-ts provides. */
export const SERVER_CLASSES = ['DebuggingServer'] as const;
export type ServerClassName = (typeof SERVER_CLASSES)[number];

const DEFAULT_LOCAL = '127.0.0.1:1025';
const DEFAULT_REMOTE = 'localhost:25';

/** Options as commander gives them. */
export interface CliOptions {
  nosetuid?: boolean;
  class: string;
  size?: string;
  debug?: boolean;
  smtputf8?: boolean;
  /** Default `raw`. */
  format?: string;
  output?: string[];
  jsonRaw?: boolean;
  saveDir?: string;
  color?: boolean;
}

/**
 * Parses `--output [FORMAT:]FILE`: FORMAT is one of FORMAT_NAMES (default
 * `defaultFormat`), FILE `-` is stdout. A prefix that is not a format name is
 * part of the file name (`./json:x` names a file `json:x`).
 */
export function parseOutputSpec(spec: string, defaultFormat: FormatName): OutputSpec {
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
  for (const { path } of specs) {
    if (seen.has(path)) throw new UsageError(`two outputs write to ${path ?? 'stdout'}`);
    seen.add(path);
  }
  return specs;
}

/** Parses `host:port`, `[v6]:port` or `v6-address:port` (the port is after the last colon). */
export function parseHostPort(spec: string, what: string): HostPort {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) throw new UsageError(`bad ${what} address '${spec}': expected host:port`);
  let host = spec.slice(0, colon);
  const portText = spec.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`bad ${what} port in '${spec}': expected a number from 0 to 65535`);
  }
  if (host.includes(':') && net.isIPv6(host) === false) throw new UsageError(`bad ${what} host in '${spec}'`);
  // smtpd bound every interface for an empty host; so do we (with a warning at start).
  return { host: host === '' ? '0.0.0.0' : host, port: Number(portText) };
}

function nonEmpty(value: string | undefined, flag: string): string | null {
  if (value === '') throw new UsageError(`${flag} needs a directory`);
  return value ?? null;
}

/** Turns parsed options and positional arguments into a Config. Pure. */
export function toConfig(options: CliOptions, args: readonly string[]): Config {
  if (!(SERVER_CLASSES as readonly string[]).includes(options.class)) {
    throw new UsageError(`unknown class '${options.class}' (available: ${SERVER_CLASSES.join(', ')})`);
  }
  let dataSizeLimit = DATA_SIZE_DEFAULT;
  if (options.size !== undefined) {
    if (!/^[0-9]+$/.test(options.size)) throw new UsageError(`invalid size: '${options.size}' (bytes, 0 for no limit)`);
    dataSizeLimit = Number(options.size);
  }
  return {
    local: parseHostPort(args[0] ?? DEFAULT_LOCAL, 'local'),
    remote: parseHostPort(args[1] ?? DEFAULT_REMOTE, 'remote'),
    className: options.class as ServerClassName,
    dataSizeLimit,
    smtputf8: options.smtputf8 ?? false,
    debug: options.debug ?? false,
    setuid: !(options.nosetuid ?? false),
    outputs: toOutputs(options),
    jsonRaw: options.jsonRaw ?? false,
    saveDir: nonEmpty(options.saveDir, '--save-dir'),
    color: options.color,
  };
}

function program(): Command {
  return new Command('smtpd-ts')
    .description('A debugging SMTP sink: accepts every message and prints it, like `python -m smtpd -n -c DebuggingServer`.')
    .usage('[options] [localhost:port [remotehost:port]]')
    .argument('[localhost:port]', `address to listen on; port 0 picks a free port (default: ${DEFAULT_LOCAL})`)
    .argument('[remotehost:port]', `upstream server for relaying classes (default: ${DEFAULT_REMOTE})`)
    .option('-n, --nosetuid', 'never drop privileges to nobody')
    .addOption(new Option('-c, --class <classname>', 'server class').choices(SERVER_CLASSES).default('DebuggingServer'))
    .option('-s, --size <bytes>', `largest accepted message, 0 for no limit (default: ${DATA_SIZE_DEFAULT})`)
    .option('-d, --debug', 'print a protocol trace on stderr')
    .option('-u, --smtputf8', 'enable the SMTPUTF8 extension (RFC 6531)')
    .option('-f, --format <name>', `how messages are shown: ${FORMAT_NAMES.join(', ')}`, 'raw')
    .option(
      '-o, --output <[format:]file>',
      "write to FILE (appending) instead of stdout, in FORMAT (default: --format); '-' is stdout; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json-raw', 'add the raw message, base64, to JSON output')
    .option('--save-dir <dir>', 'also save every message into the Maildir DIR (created if missing)')
    .option('--color', 'colour human formats even when not on a terminal')
    .option('--no-color', 'never colour (default: colour on a terminal, unless NO_COLOR is set)')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

/** Streams main() writes to; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A server that main() started, for callers that stop it themselves. */
export interface Running {
  readonly server: SMTPServer;
  /** Resolves with the exit code once the server has stopped. */
  readonly exited: Promise<number>;
  /** Shuts down gracefully (what SIGINT and SIGTERM do). */
  stop(): Promise<void>;
}

/** Parses argv; returns a Config, or an exit code after printing help, the version or a usage error. */
export function parseArgv(argv: readonly string[], io: CliIO): Config | number {
  const cmd = program();
  cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
  try {
    cmd.parse([...argv], { from: 'user' });
    return toConfig(cmd.opts<CliOptions>(), cmd.args);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK; // --help, --version
      io.stderr.write(`smtpd-ts: ${err.message.replace(/^error: /, '')} (see smtpd-ts --help)\n`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`smtpd-ts: ${err.message}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
}

function formatAddress(a: { address: string; port: number }): string {
  return net.isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Starts the server a Config describes. Rejects with a one-line message when it cannot listen. */
export async function start(config: Config, io: CliIO): Promise<Running> {
  const outputs = await openOutputs(config, io.stdout);
  const server = new SMTPServer(config.local, config.remote, {
    dataSizeLimit: config.dataSizeLimit,
    enableSMTPUTF8: config.smtputf8,
    handler: new OutputHandler({ ...outputs, includeRaw: config.jsonRaw, log: io.stderr }),
    ...(config.debug ? { trace: io.stderr } : {}),
    log: io.stderr,
  });
  const address = await server.listen().catch(async (err: unknown) => {
    await outputs.close();
    throw err;
  });
  if (config.setuid) dropPrivileges(config, io);
  await outputs.checkWritable().catch(async (err: unknown) => {
    await server.close();
    await outputs.close();
    throw err;
  });
  if (!isLoopback(config.local.host)) {
    io.stderr.write(`smtpd-ts: warning: listening on ${config.local.host}: anyone who can reach this address can send to it\n`);
  }
  io.stderr.write(`smtpd-ts ${VERSION}: ${config.className} listening on ${formatAddress(address)}\n`);
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= server.close().then(async () => {
      await outputs.close();
      await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
      resolveExit(EXIT.OK);
    }));
  return { server, exited, stop };
}

/** smtpd became `nobody` unless -n; we do so only where it matters: root on a privileged port. */
function dropPrivileges(config: Config, io: CliIO): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || config.local.port >= 1024) return;
  try {
    process.setgid?.('nogroup');
    process.setuid?.('nobody');
  } catch (err) {
    io.stderr.write(`smtpd-ts: cannot drop privileges to nobody (${(err as Error).message}); use -n to stay root\n`);
    process.exit(EXIT.START_FAILED);
  }
}

/** Runs the CLI with explicit arguments; resolves with the process exit code. */
export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const config = parseArgv(argv, io);
  if (typeof config === 'number') return config;
  let running: Running;
  try {
    running = await start(config, io);
  } catch (err) {
    if (err instanceof OutputError) {
      io.stderr.write(`smtpd-ts: ${err.message}\n`);
      return EXIT.START_FAILED;
    }
    const e = err as NodeJS.ErrnoException;
    const where = `${config.local.host}:${config.local.port}`;
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    io.stderr.write(`smtpd-ts: cannot listen on ${where}: ${why}\n`);
    return EXIT.START_FAILED;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr.write(`smtpd-ts: ${signal}: finishing transactions in flight, then exiting\n`);
    void running.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await running.exited;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}
