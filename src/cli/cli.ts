/**
 * The command line: commander parses, `toConfig` (config.ts) turns the
 * options into a typed Config, and `main` runs the server until a signal,
 * `--exit-after` or `--timeout`. `bin/smtpd-ts.js` only runs `src/cli/run.ts`,
 * which calls `main(process.argv.slice(2))`.
 */
import { Command, CommanderError, Option } from 'commander';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { DATA_SIZE_DEFAULT } from '../channel/types.js';
import { DEFAULT_LOCAL, DEFAULT_REMOTE, SERVER_CLASSES, toConfig, type CliOptions, type Config } from './config.js';
import { judgeRun } from '../expect/outcome.js';
import { ExpectationTracker } from '../expect/tracker.js';
import { extensionServerOptions } from '../extensions/server-options.js';
import { OutputHandler } from '../handlers/outputs.js';
import { lintMessage } from '../lint/lint.js';
import { enforceStrict } from '../lint/strict.js';
import type { Message } from '../message.js';
import { openOutputs, type OpenedOutputs } from '../outputs/open-outputs.js';
import { describeIoError } from '../outputs/output.js';
import { toJsonRecord } from '../printers/json.js';
import { FORMAT_NAMES } from '../printers/registry.js';
import { relayServerOptions } from '../relay/server-options.js';
import { RuleEngine } from '../rules/engine.js';
import { loadRulesFile, usesRandom } from '../rules/settings.js';
import { formatSessionEnd, printSessionJson } from '../transcript/print.js';
import type { FinishedSession } from '../transcript/transcript.js';
import { DEFAULT_DELIVER_TIMEOUT_S, DEFAULT_RELAY_TIMEOUT_S, relayRefusal } from '../relay/settings.js';
import { EXIT, removeRunFiles, removeRunFilesNow, watchRun, writeFileAtomic, type RunEnd } from './run-control.js';
import { isLoopbackAddress } from '../server/loopback.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RECIPIENTS, DEFAULT_TIMEOUTS, SMTPServer } from '../server/server.js';
import { VERSION } from '../version.js';
import { runWait, WAIT_SUMMARY } from './wait/wait-command.js';
import { UsageError, OutputError, StartError } from '../errors.js';

export { EXIT };

const collect = (value: string, previous: string[] = []) => [...previous, value];

function program(): Command {
  return new Command('smtpd-ts')
    .description(
      'A debugging SMTP sink: accepts every message and prints it, like `python -m smtpd -n -c DebuggingServer`.',
    )
    .usage('[options] [localhost:port [remotehost:port]]')
    .argument('[localhost:port]', `address to listen on; port 0 picks a free port (default: ${DEFAULT_LOCAL})`)
    .argument('[remotehost:port]', `upstream server for relaying classes (default: ${DEFAULT_REMOTE})`)
    .option('-n, --nosetuid', 'never drop privileges')
    .addOption(new Option('-c, --class <classname>', 'server class').choices(SERVER_CLASSES).default('DebuggingServer'))
    .option('-s, --size <bytes>', `largest accepted message, 0 for no limit (default: ${DATA_SIZE_DEFAULT})`)
    .option('-d, --debug', 'print a protocol trace on stderr')
    .option('-u, --smtputf8', 'enable the SMTPUTF8 extension (RFC 6531)')
    .option('-f, --format <name>', `how messages are shown: ${FORMAT_NAMES.join(', ')}`, 'raw')
    .option(
      '-o, --output <[format:]file>',
      "write to FILE (appending) instead of stdout, in FORMAT (default: --format); '-' is stdout; repeatable",
      collect,
    )
    .option('--json-raw', 'add the raw message, base64, to JSON output')
    .option('--save-dir <dir>', 'also save every message into the Maildir DIR (created if missing)')
    .option('--color', 'colour human formats even when not on a terminal')
    .option('--no-color', 'never colour (default: colour on a terminal, unless NO_COLOR is set)')
    .option('--exit-after <n>', 'exit 0 once N messages were accepted and written')
    .option('--timeout <seconds>', `exit ${EXIT.TIMEOUT} if the run has not finished after SECONDS`)
    .option('--ready-file <path>', 'write host:port to PATH (atomically) once connections are accepted')
    .option('--pid-file <path>', 'write the process id to PATH')
    .option('--max-connections <n>', `open connections at most, 0 for no limit (default: ${DEFAULT_MAX_CONNECTIONS})`)
    .option(
      '--max-recipients <n>',
      `recipients per message at most, 0 for no limit (default: ${DEFAULT_MAX_RECIPIENTS})`,
    )
    .option('--max-messages-per-connection <n>', 'messages per connection at most, 0 for no limit (default: 0)')
    .option(
      '--command-timeout <seconds>',
      `close an idle session with 421 (default: ${DEFAULT_TIMEOUTS.command / 1000})`,
    )
    .option('--data-timeout <seconds>', `close a silent DATA with 421 (default: ${DEFAULT_TIMEOUTS.data / 1000})`)
    .option(
      '--transaction-timeout <seconds>',
      `longest MAIL-to-final-dot transaction (default: ${DEFAULT_TIMEOUTS.transaction / 1000})`,
    )
    .option(
      '--bare-lf <policy>',
      'messages with bare CR or LF line endings: accept (flagged) or reject (550) (default: accept)',
    )
    .option(
      '--user <name>',
      'drop privileges to NAME after binding (default: nobody, only as root on a port below 1024)',
    )
    .option('--relay <host:port>', 'relay every message to this SMTP server (as -c PureProxy), and print it too')
    .option(
      '--relay-tls',
      'require STARTTLS with a valid certificate upstream (default: STARTTLS when offered, unverified)',
    )
    .option('--relay-user <name>', 'AUTH to the upstream as NAME (with --relay-password-file)')
    .option('--relay-password-file <path>', 'the upstream password, on the first line of PATH')
    .option(
      '--relay-timeout <seconds>',
      `each wait for the upstream at most; then 451 (default: ${DEFAULT_RELAY_TIMEOUT_S})`,
    )
    .option(
      '--relay-allow <cidr>',
      'peers that may relay (default: loopback only); needed to relay from a non-loopback address; repeatable',
      collect,
    )
    .option(
      '--relay-domains <domains>',
      'relay only to these recipient domains (comma-separated; .example.com takes subdomains); repeatable',
      collect,
    )
    .option(
      '--deliver <pattern=command>',
      'pipe the message to COMMAND once per recipient matching PATTERN (glob or /regexp/); exit 0 accepts, 75 defers (451), others 550; repeatable',
      collect,
    )
    .option(
      '--deliver-timeout <seconds>',
      `kill a --deliver command after SECONDS; then 451 (default: ${DEFAULT_DELIVER_TIMEOUT_S})`,
    )
    .option('--lint', "show the protocol lint's findings after each message in human formats (JSON always has them)")
    .option('--strict', 'refuse a message with an error-severity lint finding with 550, naming the finding')
    .option(
      '--expect <expr>',
      `at exit, exit ${EXIT.EXPECTATION_FAILED} unless a message matches EXPR: [every:|none:]FIELD OP VALUE [&& ...], OP one of = != ~ !~ < <= > >=; repeatable`,
      collect,
    )
    .option(
      '--expect-count <range>',
      `at exit, exit ${EXIT.EXPECTATION_FAILED} unless the number of accepted messages is N, MIN..MAX, >=N, >N, <=N or <N`,
    )
    .option(
      '--tls',
      'offer STARTTLS with a self-signed certificate generated at start (its SHA-256 fingerprint goes to stderr)',
    )
    .option('--tls-cert <file>', 'offer STARTTLS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--tls-implicit', 'TLS from the first byte (SMTPS, RFC 8314) instead of STARTTLS')
    .option('--require-tls', 'answer 530 to MAIL before STARTTLS')
    .option(
      '--auth-file <file>',
      'check AUTH credentials against FILE (user:password lines); 535 on failure (default: accept any)',
    )
    .option('--require-auth', 'answer 530 to MAIL before AUTH')
    .option('--auth-insecure', 'offer AUTH without TLS on any address (default: only on loopback)')
    .option('--no-auth', 'do not offer AUTH')
    .option('--no-chunking', 'do not offer CHUNKING (BDAT)')
    .option('--binarymime', 'offer BINARYMIME (RFC 3030): MAIL takes BODY=BINARYMIME')
    .option('--enhanced-status-codes', 'offer ENHANCEDSTATUSCODES: every reply carries its RFC 3463 code')
    .option('--dsn', 'accept the DSN parameters RET, ENVID, NOTIFY, ORCPT (RFC 3461) and record them')
    .option('--lmtp', 'speak LMTP (RFC 2033): LHLO, one reply per recipient after the data')
    .option(
      '--reply <rule>',
      'answer a command with a scripted reply or fault: VERB[~PATTERN][#N|#N+|#*N][?P%]=[delay:TIME] REPLY[!close]|drop (see docs/testing-the-sender.md); repeatable',
      collect,
    )
    .option('--rules <file>', 'more --reply rules, one a line (# comments)')
    .option('--seed <n>', 'seed for rules with a ?P% probability, to replay the same faults (default: random, printed)')
    .option('--connection-rate <n/seconds>', 'more than N new connections within SECONDS get 421 and a close')
    .option('--transcript', 'record every session: a JSON line of type session, or the dialogue before each message')
    .option('--proxy-protocol', 'expect a PROXY protocol v1 or v2 header on each connection (behind a load balancer)')
    .addHelpText('after', WAIT_SUMMARY)
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
function parseArgv(argv: readonly string[], io: CliIO): Config | number {
  const cmd = program();
  cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
  try {
    cmd.parse([...argv], { from: 'user' });
    const config = toConfig(cmd.opts<CliOptions>(), cmd.args);
    // Read here, not in the pure toConfig, so that a bad line is still a usage error (exit 2).
    return { ...config, rules: loadRulesFile(config.rules) };
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

/** Writes a run file, or says which flag's file could not be written, as whom, and why. */
async function writeRunFile(path: string, flag: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    const user = process.getuid?.() === 0 ? '' : ` as uid ${process.getuid?.()}`;
    throw new StartError(`cannot write ${flag} ${path}${user}: ${describeIoError(err)}`);
  }
}

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
    throw new StartError(
      `cannot drop privileges to ${user}: ${(err as Error).message}${config.user ? '' : '; use -n to stay root'}`,
    );
  }
}

/** A started sink: its server, outputs and address. */
export interface Started {
  readonly server: SMTPServer;
  readonly outputs: OpenedOutputs;
  readonly address: net.AddressInfo;
  /** Follows `--expect` and `--expect-count`; null when there are none. */
  readonly expectations: ExpectationTracker | null;
  /** `--transcript` writes in flight, to wait for before the outputs close. */
  readonly transcriptWrites: Set<Promise<void>>;
  /** The handler that formats and writes every message (its render worker is stopped at exit). */
  readonly printer: OutputHandler;
}

/** Writes a finished session to every output: its JSON line, or the rest of its dialogue for people. */
function writeSession(
  outputs: OpenedOutputs,
  session: FinishedSession,
  log: NodeJS.WritableStream,
  pending: Set<Promise<void>>,
): void {
  for (const { format, style, destination } of outputs.outputs) {
    const text = format.human
      ? formatSessionEnd(session.record, session.unprinted, style)
      : printSessionJson(session.record);
    const write: Promise<void> = destination
      .write(text)
      .catch((err: unknown) => {
        log.write(
          `smtpd-ts: cannot write session ${session.record.id} to ${destination.name}: ${(err as Error).message}\n`,
        );
      })
      .finally(() => pending.delete(write));
    pending.add(write);
  }
}

/** Opens the outputs, binds, drops privileges; rejects with a worded error. */
export async function start(config: Config, io: CliIO): Promise<Started> {
  const outputs = await openOutputs(config, io.stdout);
  // TLS certificate and --auth-file, read (or generated) before binding.
  // Reading a file at start fails as a StartError, with the outputs closed.
  const orClose = async (err: Error): Promise<never> => {
    await outputs.close();
    throw new StartError(err.message);
  };
  const extensions = await extensionServerOptions(config.extensions, io.stderr).catch(orClose);
  const expecting = config.expectCount !== null || config.expectations.length > 0;
  const expectations = expecting ? new ExpectationTracker(config.expectCount, config.expectations) : null;
  const rules = config.rules;
  const seed = rules.seed ?? randomInt(0, 2 ** 32);
  if (usesRandom(rules) && rules.seed === null)
    io.stderr.write(`smtpd-ts: random rules use seed ${seed} (replay with --seed ${seed})\n`);
  const engine = rules.rules.length > 0 ? new RuleEngine(rules.rules, seed) : null;
  const transcriptWrites = new Set<Promise<void>>();
  const printer = new OutputHandler({
    ...outputs,
    includeRaw: config.jsonRaw,
    log: io.stderr,
    showLint: config.lint,
    strict: config.strict,
    // Expectations read the JSON record's parsed fields (and lint), whatever the output format.
    parseAlways: expecting,
    offload: true,
    ...(expectations
      ? {
          onWritten: (message, context) =>
            expectations.observe(toJsonRecord(message, { ...context, includeRaw: false })),
        }
      : {}),
  });
  // PureProxy, --relay, --deliver: a RelayHandler delivers, then prints with `printer`
  // (src/handlers/relay.ts); --strict is checked before anything is relayed or piped.
  const strictCheck = config.strict
    ? (message: Message) => {
        const findings = lintMessage(message);
        enforceStrict(findings);
        return findings;
      }
    : undefined;
  const relay = await relayServerOptions(config.relay, io.stderr, printer, strictCheck).catch(orClose);
  const server = new SMTPServer(config.local, config.remote, {
    dataSizeLimit: config.dataSizeLimit,
    enableSMTPUTF8: config.smtputf8,
    ...relay,
    ...(config.debug ? { trace: io.stderr } : {}),
    log: io.stderr,
    maxConnections: config.maxConnections,
    maxRecipients: config.maxRecipients,
    maxMessagesPerConnection: config.maxMessagesPerConnection,
    bareLineEndings: config.bareLineEndings,
    timeouts: config.timeouts,
    ...extensions,
    ...(engine ? { replyRule: engine.hook } : {}),
    connectionRate: rules.connectionRate,
    ...(rules.transcript
      ? { transcript: (session: FinishedSession) => writeSession(outputs, session, io.stderr, transcriptWrites) }
      : {}),
  });
  let address: net.AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    await outputs.close();
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new StartError(`cannot listen on ${config.local.host}:${config.local.port}: ${why}`);
  }
  const refusal = relayRefusal(config.relay, config.local.host, address.address);
  if (refusal !== null) {
    await server.close(0);
    await outputs.close();
    throw new StartError(refusal);
  }
  try {
    dropPrivileges(config, address.port);
    await outputs.checkWritable();
    // The run files come last, written by the user the sink runs as (who
    // must remove them at exit): a ready file always means a running sink.
    if (config.pidFile) await writeRunFile(config.pidFile, '--pid-file', `${process.pid}\n`);
    if (config.readyFile) await writeRunFile(config.readyFile, '--ready-file', `${formatAddress(address)}\n`);
  } catch (err) {
    await server.close(0);
    await outputs.close();
    await removeRunFiles(config);
    throw err instanceof StartError || err instanceof OutputError ? err : new StartError((err as Error).message);
  }
  if (!isLoopbackAddress(address.address)) {
    io.stderr.write(
      `smtpd-ts: warning: listening on ${config.local.host}: anyone who can reach this address can send to it\n`,
    );
  }
  io.stderr.write(`smtpd-ts ${VERSION}: ${config.className} listening on ${formatAddress(address)}\n`);
  return { server, outputs, address, expectations, transcriptWrites, printer };
}

/** The signals that end a run: the first gracefully (SIGQUIT at once), a second at once. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Exits now, as the shell reports a death by `signal` (128 + its number), leaving no run file behind. */
function exitNow(config: Config, signal: NodeJS.Signals, io: CliIO): never {
  io.stderr.write(`smtpd-ts: ${signal}: exiting at once\n`);
  removeRunFilesNow(config);
  process.exit(128 + (osConstants.signals[signal] ?? 0));
}

/** Runs the CLI with explicit arguments; resolves with the process exit code. */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // `wait` is dispatched by hand, not as a commander subcommand, so that the
  // root command's optional positional address keeps parsing exactly as before.
  if (argv[0] === 'wait') return runWait(argv.slice(1), io);
  const config = parseArgv(argv, io);
  if (typeof config === 'number') return config;
  // Signal handlers go in before the listening line, so a script that sends
  // SIGTERM as soon as it sees the line gets a graceful exit. SIGHUP (the
  // terminal went away) is taken the same way. A second signal, or SIGQUIT,
  // exits at once: only the run files are removed first.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  let signals = 0;
  const signalled = new Promise<RunEnd>((resolve) => {
    onSignal = (signal) => {
      if (++signals > 1 || signal === 'SIGQUIT') return exitNow(config, signal, io);
      resolve({
        code: EXIT.OK,
        reason: `${signal}: finishing transactions in flight, then exiting (again to exit at once)`,
      });
    };
  });
  for (const signal of SIGNALS) process.on(signal, onSignal);
  let started: Started;
  try {
    started = await start(config, io);
  } catch (err) {
    io.stderr.write(`smtpd-ts: ${(err as Error).message}\n`);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    return EXIT.START_FAILED;
  }
  const watch = watchRun(started.server, config);
  const end = await Promise.race([watch.ended, signalled]);
  watch.dispose();
  if (end.reason) io.stderr.write(`smtpd-ts: ${end.reason}\n`);
  await started.server.close();
  await Promise.all(started.transcriptWrites);
  await started.printer.close();
  await started.outputs.close();
  await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
  await removeRunFiles(config, io.stderr);
  for (const signal of SIGNALS) process.off(signal, onSignal);
  return started.expectations ? judgeRun(end, started.expectations, config.exitAfter, io.stderr) : end.code;
}
