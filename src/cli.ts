/**
 * The command line: commander parses, `toConfig` (src/config.ts) turns the
 * options into a typed Config, and `main` runs the server until a signal,
 * `--exit-after` or `--timeout`. `bin/smtpd-ts.js` only runs `src/run.ts`,
 * which calls `main(process.argv.slice(2))`.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { DATA_SIZE_DEFAULT } from './channel/types.js';
import { DEFAULT_LOCAL, DEFAULT_REMOTE, SERVER_CLASSES, toConfig, UsageError, type CliOptions, type Config } from './config.js';
import { OutputHandler } from './handlers/outputs.js';
import { openOutputs, type OpenedOutputs } from './outputs/open-outputs.js';
import { OutputError } from './outputs/output.js';
import { FORMAT_NAMES } from './printers/registry.js';
import { EXIT, removeRunFiles, watchRun, writeFileAtomic, type RunEnd } from './run-control.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RECIPIENTS, DEFAULT_TIMEOUTS, SMTPServer } from './server.js';
import { VERSION } from './version.js';

export { EXIT };

const collect = (value: string, previous: string[] = []) => [...previous, value];

function program(): Command {
  return new Command('smtpd-ts')
    .description('A debugging SMTP sink: accepts every message and prints it, like `python -m smtpd -n -c DebuggingServer`.')
    .usage('[options] [localhost:port [remotehost:port]]')
    .argument('[localhost:port]', `address to listen on; port 0 picks a free port (default: ${DEFAULT_LOCAL})`)
    .argument('[remotehost:port]', `upstream server for relaying classes (default: ${DEFAULT_REMOTE})`)
    .option('-n, --nosetuid', 'never drop privileges')
    .addOption(new Option('-c, --class <classname>', 'server class').choices(SERVER_CLASSES).default('DebuggingServer'))
    .option('-s, --size <bytes>', `largest accepted message, 0 for no limit (default: ${DATA_SIZE_DEFAULT})`)
    .option('-d, --debug', 'print a protocol trace on stderr')
    .option('-u, --smtputf8', 'enable the SMTPUTF8 extension (RFC 6531)')
    .option('-f, --format <name>', `how messages are shown: ${FORMAT_NAMES.join(', ')}`, 'raw')
    .option('-o, --output <[format:]file>', "write to FILE (appending) instead of stdout, in FORMAT (default: --format); '-' is stdout; repeatable", collect)
    .option('--json-raw', 'add the raw message, base64, to JSON output')
    .option('--save-dir <dir>', 'also save every message into the Maildir DIR (created if missing)')
    .option('--color', 'colour human formats even when not on a terminal')
    .option('--no-color', 'never colour (default: colour on a terminal, unless NO_COLOR is set)')
    .option('--exit-after <n>', 'exit 0 once N messages were accepted and written')
    .option('--timeout <seconds>', `exit ${EXIT.TIMEOUT} if the run has not finished after SECONDS`)
    .option('--ready-file <path>', 'write host:port to PATH (atomically) once connections are accepted')
    .option('--pid-file <path>', 'write the process id to PATH')
    .option('--max-connections <n>', `open connections at most, 0 for no limit (default: ${DEFAULT_MAX_CONNECTIONS})`)
    .option('--max-recipients <n>', `recipients per message at most, 0 for no limit (default: ${DEFAULT_MAX_RECIPIENTS})`)
    .option('--max-messages-per-connection <n>', 'messages per connection at most, 0 for no limit (default: 0)')
    .option('--command-timeout <seconds>', `close an idle session with 421 (default: ${DEFAULT_TIMEOUTS.command / 1000})`)
    .option('--data-timeout <seconds>', `close a silent DATA with 421 (default: ${DEFAULT_TIMEOUTS.data / 1000})`)
    .option('--transaction-timeout <seconds>', `longest MAIL-to-final-dot transaction (default: ${DEFAULT_TIMEOUTS.transaction / 1000})`)
    .option('--bare-lf <policy>', 'messages with bare CR or LF line endings: accept (flagged) or reject (550) (default: accept)')
    .option('--user <name>', 'drop privileges to NAME after binding (default: nobody, only as root on a port below 1024)')
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

/** A failure to start, already worded for stderr: exit 1. */
class StartError extends Error {}

/** The primary group of `user` from /etc/passwd, if it can be read. */
function primaryGroup(user: string): number | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0] === user);
    const gid = line ? Number(line.split(':')[3]) : NaN;
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * smtpd became `nobody` after binding unless -n, and failed when not root.
 * We drop to `nobody` only where it matters (root on a port below 1024), or
 * to `--user` anywhere; -n never drops.
 */
function dropPrivileges(config: Config, boundPort: number): void {
  if (!config.setuid) return;
  const root = process.getuid?.() === 0;
  const user = config.user ?? (root && boundPort > 0 && boundPort < 1024 ? 'nobody' : null);
  if (user === null) return;
  try {
    const gid = primaryGroup(user);
    if (gid !== undefined) {
      process.setgroups?.([gid]);
      process.setgid?.(gid);
    }
    process.setuid?.(user);
  } catch (err) {
    throw new StartError(`cannot drop privileges to ${user}: ${(err as Error).message}${config.user ? '' : '; use -n to stay root'}`);
  }
}

/** A started sink: its server, outputs and address. */
export interface Started {
  readonly server: SMTPServer;
  readonly outputs: OpenedOutputs;
  readonly address: net.AddressInfo;
}

/** Opens the outputs, binds, drops privileges; rejects with a worded error. */
export async function start(config: Config, io: CliIO): Promise<Started> {
  const outputs = await openOutputs(config, io.stdout);
  const server = new SMTPServer(config.local, config.remote, {
    dataSizeLimit: config.dataSizeLimit,
    enableSMTPUTF8: config.smtputf8,
    handler: new OutputHandler({ ...outputs, includeRaw: config.jsonRaw, log: io.stderr }),
    ...(config.debug ? { trace: io.stderr } : {}),
    log: io.stderr,
    maxConnections: config.maxConnections,
    maxRecipients: config.maxRecipients,
    maxMessagesPerConnection: config.maxMessagesPerConnection,
    bareLineEndings: config.bareLineEndings,
    timeouts: config.timeouts,
  });
  let address: net.AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    await outputs.close();
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new StartError(`cannot listen on ${config.local.host}:${config.local.port}: ${why}`);
  }
  try {
    // The pid and ready files are written like outputs: before dropping privileges.
    if (config.pidFile) await writeFileAtomic(config.pidFile, `${process.pid}\n`);
    if (config.readyFile) await writeFileAtomic(config.readyFile, `${formatAddress(address)}\n`);
    dropPrivileges(config, address.port);
    await outputs.checkWritable();
  } catch (err) {
    await server.close(0);
    await outputs.close();
    await removeRunFiles(config);
    throw err instanceof StartError || err instanceof OutputError ? err : new StartError((err as Error).message);
  }
  if (!isLoopback(config.local.host)) {
    io.stderr.write(`smtpd-ts: warning: listening on ${config.local.host}: anyone who can reach this address can send to it\n`);
  }
  io.stderr.write(`smtpd-ts ${VERSION}: ${config.className} listening on ${formatAddress(address)}\n`);
  return { server, outputs, address };
}

/** Runs the CLI with explicit arguments; resolves with the process exit code. */
export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const config = parseArgv(argv, io);
  if (typeof config === 'number') return config;
  // Signal handlers go in before the listening line, so a script that sends
  // SIGTERM as soon as it sees the line gets a graceful exit.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<RunEnd>((resolve) => {
    onSignal = (signal) => resolve({ code: EXIT.OK, reason: `${signal}: finishing transactions in flight, then exiting` });
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let started: Started;
  try {
    started = await start(config, io);
  } catch (err) {
    io.stderr.write(`smtpd-ts: ${(err as Error).message}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return EXIT.START_FAILED;
  }
  const watch = watchRun(started.server, config);
  const end = await Promise.race([watch.ended, signalled]);
  watch.dispose();
  if (end.reason) io.stderr.write(`smtpd-ts: ${end.reason}\n`);
  await started.server.close();
  await started.outputs.close();
  await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
  await removeRunFiles(config);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return end.code;
}
