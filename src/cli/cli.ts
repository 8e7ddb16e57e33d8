/**
 * The command line's entry: the flags (flags.ts) are parsed, `toConfig`
 * (config.ts) turns them into a typed Config, `start` (start.ts) builds and
 * binds the sink, and `main` runs it until a signal, `--exit-after` or
 * `--timeout` (run-control.ts). `bin/smtpd-ts.js` only runs
 * `src/cli/run.ts`, which calls `main(process.argv.slice(2))`.
 */
import { CommanderError } from 'commander';
import { constants as osConstants } from 'node:os';
import { refuseUnknownCommand, toConfig, type CliOptions, type Config } from './config.js';
import { judgeRun } from '../expect/outcome.js';
import { loadRulesFile } from './rule-settings.js';
import { loadMailboxFile } from './mailbox-settings.js';
import { EXIT, type RunEnd } from '../exit-codes.js';
import { removeRunFiles, removeRunFilesNow, watchRun } from './run-control.js';
import { runWait } from './wait/wait-command.js';
import { UsageError } from '../errors.js';
import { program } from './flags.js';
import { layeredArgv, withSource, type FlagSource } from './flag-sources.js';
import { start, type CliIO } from './start.js';
import type { ExpectationTracker } from '../expect/tracker.js';
import type { OpenedOutputs } from '../outputs/open-outputs.js';
import type { EventEmitter } from 'node:events';
import { WORKER_ENV } from './workers/protocol.js';

export { EXIT };
export type { CliIO };

/** Parses argv; returns a Config, or an exit code after printing help, the version or a usage error. */
function parseArgv(argv: readonly string[], io: CliIO): Config | number {
  const cmd = program();
  cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
  // Where each flag the environment or --config gave came from, for an error about its value.
  let sources: ReadonlyMap<string, FlagSource> = new Map();
  try {
    // Commander keeps the last of the two; a contradiction is better said.
    if (argv.includes('--color') && argv.includes('--no-color'))
      throw new UsageError('--color and --no-color contradict each other');
    // A mistyped command is said as one before its own options (`sendmial -t`) are taken for the sink's.
    if (argv[0] !== undefined && !argv[0].startsWith('-')) refuseUnknownCommand(argv[0]);
    const layered = layeredArgv(cmd, argv, process.env);
    sources = layered.sources;
    cmd.parse(layered.argv, { from: 'user' });
    const config = toConfig(cmd.opts<CliOptions>(), cmd.args);
    // Read here, not in the pure toConfig, so that a bad line is still a usage error (exit 2).
    return { ...config, rules: loadRulesFile(config.rules), mailboxes: loadMailboxFile(config.mailboxes) };
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK; // --help, --version
      // One line: commander puts its "(Did you mean --format?)" on a line of its own.
      const message = err.message.replace(/^error: /, '').replace(/\n\(Did you mean/, ' (did you mean');
      io.stderr.write(`smtpd-ts: ${withSource(message, sources)} (see smtpd-ts --help)\n`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`smtpd-ts: ${withSource(err.message, sources)}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
}

/** The signals that end a run: the first gracefully (SIGQUIT at once), a second at once. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Exits now, as the shell reports a death by `signal` (128 + its number), leaving no run file behind. */
function exitNow(config: Config, signal: NodeJS.Signals, io: CliIO): never {
  io.stderr.write(`smtpd-ts: ${signal}: exiting at once\n`);
  removeRunFilesNow(config);
  process.exit(128 + (osConstants.signals[signal] ?? 0));
}

/** A running sink, one process or `--workers`' primary: what main() watches, and how it stops. */
interface Running {
  /** `message` for each accepted message, `refusal` for each refusal. */
  readonly events: Pick<EventEmitter, 'on' | 'off'>;
  readonly outputs: OpenedOutputs;
  readonly expectations: ExpectationTracker | null;
  /** Stops taking mail and finishes what is in flight (the outputs stay open). */
  stop(): Promise<void>;
  /** Ends the workers at once, if there are any (a second signal). */
  kill(): void;
}

/** Starts the sink: in this process, or with `--workers` as the primary of its workers (loaded only then). */
async function startRunning(config: Config, argv: readonly string[], io: CliIO): Promise<Running> {
  if (config.workers > 1) {
    const { startPrimary } = await import('./workers/primary.js');
    return startPrimary(config, argv, io);
  }
  const started = await start(config, io);
  return {
    events: started.server,
    outputs: started.outputs,
    expectations: started.expectations,
    async stop() {
      await started.server.close();
      await started.inbox?.server.close();
      await started.services.close();
      await started.backend?.close();
      await Promise.all(started.recordWrites);
      await started.printer.close();
    },
    kill() {},
  };
}

/** Runs the CLI with explicit arguments; resolves with the process exit code. */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // `smtpd-ts --help | head`: a reader that leaves early is no error (the sink's own outputs handle EPIPE too).
  io.stdout.on('error', () => {});
  // `wait` is dispatched by hand, not as a commander subcommand, so that the
  // root command's optional positional address keeps parsing exactly as before.
  if (argv[0] === 'wait') return runWait(argv.slice(1), io);
  if (argv[0] === 'sendmail') {
    // Loaded only here: the sink itself never needs its address parser.
    const { runSendmail } = await import('./sendmail/sendmail-command.js');
    return runSendmail(argv.slice(1), { ...io, stdin: process.stdin, env: process.env });
  }
  const config = parseArgv(argv, io);
  if (typeof config === 'number') return config;
  // A worker of `--workers` (forked with the same arguments): the primary runs the show.
  if (process.env[WORKER_ENV] !== undefined && process.send !== undefined) {
    const { runWorker } = await import('./workers/worker.js');
    return runWorker(config, io);
  }
  // Signal handlers go in before the listening line, so a script that sends
  // SIGTERM as soon as it sees the line gets a graceful exit. SIGHUP (the
  // terminal went away) is taken the same way. A second signal, or SIGQUIT,
  // exits at once: only the run files are removed first.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  let signals = 0;
  let running: Running | undefined;
  const signalled = new Promise<RunEnd>((resolve) => {
    onSignal = (signal) => {
      if (++signals > 1 || signal === 'SIGQUIT') {
        running?.kill();
        return exitNow(config, signal, io);
      }
      resolve({
        code: EXIT.OK,
        reason: `${signal}: finishing transactions in flight, then exiting (again to exit at once)`,
      });
    };
  });
  for (const signal of SIGNALS) process.on(signal, onSignal);
  let started: Running;
  try {
    started = running = await startRunning(config, argv, io);
  } catch (err) {
    io.stderr.write(`smtpd-ts: ${(err as Error).message}\n`);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    // A file a flag names that cannot be read is a bad flag, as for --rules.
    return err instanceof UsageError ? EXIT.USAGE : EXIT.START_FAILED;
  }
  const watch = watchRun(started.events, config);
  // A closed stdout ends the run as it ends any Unix filter: `smtpd-ts | head -1`.
  const stdoutGone = started.outputs.stdoutGone.then((): RunEnd => ({
    code: EXIT.OK,
    reason: 'stdout closed (its reader has gone): finishing transactions in flight, then exiting',
  }));
  const end = await Promise.race([watch.ended, signalled, stdoutGone]);
  watch.dispose();
  if (end.reason) io.stderr.write(`smtpd-ts: ${end.reason}\n`);
  await started.stop();
  await started.outputs.close();
  await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
  await removeRunFiles(config, io.stderr);
  for (const signal of SIGNALS) process.off(signal, onSignal);
  return started.expectations ? judgeRun(end, started.expectations, config.exitAfter, io.stderr) : end.code;
}
