/**
 * The servers the bench compares, how to find them, start them on a
 * loopback port and stop them. Each start is a fresh process, so that peak
 * memory (VmHWM) and start-up time belong to one scenario.
 *
 * A server is ready when it prints its listening line (smtpd-ts, the
 * smtp-server sink), or, for those that print none, when a connection to the
 * port it was given is accepted (polled every 2 ms). A missing peer is
 * skipped with a line that says how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildProblem } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { stopChild, track } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export { buildProblem };
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;
const BIND_FAILED = /address already in use|EADDRINUSE|Errno 98/i;

/** Where smtpd-ts runs from: the compiled build (what users run) or the sources through tsx. */
export type SmtpdFrom = 'build' | 'source';

export interface ServerContext {
  readonly tmpDir: string;
  readonly smtpdFrom: SmtpdFrom;
  /** Extra node flags for smtpd-ts (e.g. `--cpu-prof`). */
  readonly smtpdNodeArgs: readonly string[];
}

export interface StartedServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  /** From spawn to ready, in ms. */
  readonly readyMs: number;
  /** The file its message output goes to, or null. */
  readonly outputFile: string | null;
  /** The end of what it wrote on stderr. */
  stderr(): string;
  exited(): boolean;
  /** SIGTERM (SIGKILL after 5 s), then removes its output file. */
  stop(): Promise<void>;
}

export interface ServerSpec {
  readonly name: string;
  /** One of smtpd-ts's own configurations (the others are peers). */
  readonly ours: boolean;
  readonly readyBy: 'listening line' | 'accepted connection';
  /** Counts the messages in its output file, for servers that print before they answer 250. */
  readonly recordMarker: string | null;
  /** The command line, for the report. */
  command(ctx: ServerContext): string;
  /** Why it cannot run here, with how to install it; undefined when it can. */
  unavailable(ctx: ServerContext): string | undefined;
  start(ctx: ServerContext): Promise<StartedServer>;
}

let outputCounter = 0;
function outputPath(ctx: ServerContext, name: string): string {
  outputCounter += 1;
  return path.join(ctx.tmpDir, `${name}.${process.pid}.${outputCounter}.out`);
}

type Ready = { readonly kind: 'line'; readonly pattern: RegExp } | { readonly kind: 'connect'; readonly port: number };

interface Launch {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  /** The file its messages are written to (removed on stop), or null. */
  readonly outputFile: string | null;
  /** Whether stdout is redirected to outputFile (else it is discarded). */
  readonly stdoutToOutput: boolean;
  readonly ready: Ready;
  readonly cwd?: string;
  /** A folder made for the server's files, removed (with them) on stop. */
  readonly outputDir?: string;
}

/** Tries to connect to the port; resolves true once a connection is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves at the child's next stderr output or exit, or after `ms`. */
function changed(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      child.stderr!.off('data', done);
      child.off('exit', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    // Registered after the collecting listener, so the new text is there when this runs.
    child.stderr!.on('data', done);
    child.once('exit', done);
  });
}

async function launch(spec: Launch): Promise<StartedServer> {
  const out = spec.outputFile !== null && spec.stdoutToOutput ? openSync(spec.outputFile, 'w') : 'ignore';
  const spawnedAt = performance.now();
  let child: ChildProcess;
  try {
    child = track(spawn(spec.file, [...spec.args], { cwd: spec.cwd ?? ROOT, stdio: ['ignore', out, 'pipe'] }));
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
  let err = '';
  let exitedEarly: string | null = null;
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-8000);
  });
  child.once('error', (e) => (exitedEarly = `could not start ${spec.file}: ${e.message}`));
  child.once('exit', (code, signal) => (exitedEarly ??= `exited (${signal ?? `code ${code}`}) before it was ready`));
  const cleanup = async () => {
    await stopChild(child);
    if (spec.outputFile) rmSync(spec.outputFile, { force: true });
    if (spec.outputDir) rmSync(spec.outputDir, { recursive: true, force: true });
  };
  const deadline = spawnedAt + START_TIMEOUT_MS;
  let port = -1;
  let readyAt = NaN;
  try {
    while (performance.now() < deadline) {
      if (exitedEarly) throw new Error(`${spec.name} ${exitedEarly}\n${err.trim()}`);
      if (spec.ready.kind === 'line') {
        const m = spec.ready.pattern.exec(err);
        if (m) {
          readyAt = performance.now();
          port = Number(m[1]);
          break;
        }
        await changed(child, deadline - performance.now());
      } else {
        if (await accepts(spec.ready.port)) {
          readyAt = performance.now();
          port = spec.ready.port;
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    if (port < 0) throw new Error(`${spec.name} was not ready within ${START_TIMEOUT_MS} ms\n${err.trim()}`);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    name: spec.name,
    pid: child.pid!,
    port,
    spawnedAt,
    readyMs: readyAt - spawnedAt,
    outputFile: spec.outputFile,
    stderr: () => err,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: cleanup,
  };
}

/** Starts a server that is given its port, trying another port when that one was taken meanwhile. */
async function launchOnFreePort(make: (port: number) => Launch): Promise<StartedServer> {
  let last: Error | undefined;
  for (let i = 0; i < START_ATTEMPTS; i++) {
    try {
      return await launch(make(await freePort(HOST)));
    } catch (e) {
      last = e as Error;
      if (!BIND_FAILED.test(last.message)) throw last;
    }
  }
  throw last!;
}

// ---------------------------------------------------------------- smtpd-ts

let helpText: string | undefined;
/** `smtpd-ts --help`, to see which flags this build has. */
function smtpdHelp(ctx: ServerContext): string {
  if (helpText === undefined) {
    const [file, args] = smtpdCommand({ ...ctx, smtpdNodeArgs: [] });
    const r = spawnSync(file, [...args, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    helpText = r.status === 0 ? r.stdout : '';
  }
  return helpText;
}

function smtpdCommand(ctx: ServerContext): [string, string[]] {
  const entry =
    ctx.smtpdFrom === 'build'
      ? [path.join(ROOT, 'bin', 'smtpd-ts.js')]
      : ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'run.ts')];
  return [process.execPath, [...ctx.smtpdNodeArgs, ...entry]];
}

const LISTENING = /listening on (?:\[[^\]]+\]|[^\s:]+):(\d+)/;
const END_MESSAGE_LINE = '------------ END MESSAGE ------------\n';

function smtpdTs(
  name: string,
  flags: readonly string[],
  options: { viaOutputFlag: boolean; toNull?: boolean; needs: RegExp[]; marker: string },
): ServerSpec {
  const toNull = options.toNull ?? false;
  const display = (ctx: ServerContext, file: string) => {
    const [, args] = smtpdCommand(ctx);
    const shown = [
      'node',
      ...args.map((a) => path.relative(ROOT, a) || a),
      '-n',
      ...flags,
      ...(options.viaOutputFlag ? ['--output', file] : []),
      `${HOST}:0`,
    ];
    return shown.join(' ') + (options.viaOutputFlag ? '' : ` > ${toNull ? '/dev/null' : file}`);
  };
  return {
    name,
    ours: true,
    readyBy: 'listening line',
    recordMarker: toNull ? null : options.marker,
    command: (ctx) => display(ctx, 'FILE'),
    unavailable(ctx) {
      if (ctx.smtpdFrom === 'build') {
        const problem = buildProblem();
        if (problem) return problem;
      }
      const help = smtpdHelp(ctx);
      if (help === '') return '`smtpd-ts --help` failed: is the build complete?';
      const missing = options.needs.filter((re) => !re.test(help));
      if (missing.length > 0)
        return `this smtpd-ts has no ${missing.map((re) => re.source.replace(/\\/g, '')).join(', ')} yet (see smtpd-ts --help)`;
      return undefined;
    },
    start(ctx) {
      const [file, args] = smtpdCommand(ctx);
      const out = toNull ? null : outputPath(ctx, name);
      return launch({
        name,
        file,
        args: [...args, '-n', ...flags, ...(options.viaOutputFlag && out ? ['--output', out] : []), `${HOST}:0`],
        outputFile: out,
        stdoutToOutput: !options.viaOutputFlag,
        ready: { kind: 'line', pattern: LISTENING },
      });
    },
  };
}

// ---------------------------------------------------------------- peers

/** The Python interpreters worth trying, the one on PATH first. */
const PYTHONS = ['python3', '/usr/bin/python3'];

const pythonCache = new Map<string, string | null>();
/** The real interpreter (not a pyenv shim, whose start-up would count in S5) that can import `module`. */
function pythonWith(module: string): string | null {
  if (!pythonCache.has(module)) {
    let found: string | null = null;
    for (const py of PYTHONS) {
      const r = spawnSync(py, ['-W', 'ignore', '-c', `import sys, ${module}; print(sys.executable)`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      if (r.status === 0 && r.stdout.trim() !== '') {
        found = r.stdout.trim();
        break;
      }
    }
    pythonCache.set(module, found);
  }
  return pythonCache.get(module) ?? null;
}

export function findExecutable(name: string, extraDirs: readonly string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter((d) => d !== '');
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

const smtpServer: ServerSpec = {
  name: 'smtp-server',
  ours: false,
  readyBy: 'listening line',
  recordMarker: null,
  command: () => 'node test/bench/smtp-server-sink.mjs',
  unavailable: () =>
    existsSync(path.join(ROOT, 'node_modules', 'smtp-server'))
      ? undefined
      : 'smtp-server is not installed: run `npm ci`',
  start: () =>
    launch({
      name: 'smtp-server',
      file: process.execPath,
      args: [path.join(ROOT, 'test', 'bench', 'smtp-server-sink.mjs')],
      outputFile: null,
      stdoutToOutput: false,
      ready: { kind: 'line', pattern: LISTENING },
    }),
};

/** smtp-server keeping each message and writing it to a file before its 250: what smtpd-ts does, like for like. */
const smtpServerWrite: ServerSpec = {
  name: 'smtp-server-write',
  ours: false,
  readyBy: 'listening line',
  recordMarker: null,
  command: () => 'node test/bench/smtp-server-sink.mjs --write > FILE',
  unavailable: smtpServer.unavailable,
  start: (ctx) =>
    launch({
      name: 'smtp-server-write',
      file: process.execPath,
      args: [path.join(ROOT, 'test', 'bench', 'smtp-server-sink.mjs'), '--write'],
      outputFile: outputPath(ctx, 'smtp-server-write'),
      stdoutToOutput: true,
      ready: { kind: 'line', pattern: LISTENING },
    }),
};

const pythonSmtpd: ServerSpec = {
  name: 'python-smtpd',
  ours: false,
  readyBy: 'accepted connection',
  recordMarker: null,
  // The interpreter's name, not its path: the report names no folder of the machine it ran on.
  command: () =>
    `${path.basename(pythonWith('smtpd') ?? 'python3')} -m smtpd -n -c DebuggingServer ${HOST}:PORT > FILE`,
  unavailable: () =>
    pythonWith('smtpd')
      ? undefined
      : 'no python3 with the smtpd module (it left the standard library in Python 3.12): install Python 3.11 (Debian 12: `apt-get install python3`)',
  start: (ctx) =>
    launchOnFreePort((port) => ({
      name: 'python-smtpd',
      file: pythonWith('smtpd')!,
      args: ['-W', 'ignore::DeprecationWarning', '-m', 'smtpd', '-n', '-c', 'DebuggingServer', `${HOST}:${port}`],
      outputFile: outputPath(ctx, 'python-smtpd'),
      stdoutToOutput: true,
      ready: { kind: 'connect', port },
    })),
};

const aiosmtpd: ServerSpec = {
  name: 'aiosmtpd',
  ours: false,
  readyBy: 'accepted connection',
  recordMarker: null,
  command: () =>
    `${path.basename(pythonWith('aiosmtpd') ?? 'python3')} -m aiosmtpd -n -c aiosmtpd.handlers.Debugging -l ${HOST}:PORT > FILE`,
  unavailable: () =>
    pythonWith('aiosmtpd')
      ? undefined
      : 'aiosmtpd is not installed: `apt-get install python3-aiosmtpd` (Debian) or `pip install aiosmtpd`',
  start: (ctx) =>
    launchOnFreePort((port) => ({
      name: 'aiosmtpd',
      file: pythonWith('aiosmtpd')!,
      args: ['-m', 'aiosmtpd', '-n', '-c', 'aiosmtpd.handlers.Debugging', '-l', `${HOST}:${port}`],
      outputFile: outputPath(ctx, 'aiosmtpd'),
      stdoutToOutput: true,
      ready: { kind: 'connect', port },
    })),
};

const smtpSink: ServerSpec = {
  name: 'smtp-sink',
  ours: false,
  readyBy: 'accepted connection',
  recordMarker: null,
  command: () => `smtp-sink -u nobody -m 2000 -c ${HOST}:PORT 1000`,
  unavailable: () =>
    findExecutable('smtp-sink', SBIN)
      ? undefined
      : "Postfix's smtp-sink is not installed: `apt-get install postfix`, then `postfix stop` so that no Postfix daemon runs during the bench",
  start: (ctx) =>
    launchOnFreePort((port) => ({
      name: 'smtp-sink',
      file: findExecutable('smtp-sink', SBIN)!,
      // 1000: the listen backlog. -m: it serves 256 sessions at once by default, too few for S4.
      args: ['-u', 'nobody', '-m', '2000', '-c', `${HOST}:${port}`, '1000'],
      outputFile: outputPath(ctx, 'smtp-sink'),
      stdoutToOutput: true,
      ready: { kind: 'connect', port },
    })),
};

/** smtp-sink appending each message to a file (`-D`) before its 250: like for like with a sink that writes. */
const smtpSinkWrite: ServerSpec = {
  ...smtpSink,
  name: 'smtp-sink-write',
  command: () => `smtp-sink -u nobody -m 2000 -c -D FILE ${HOST}:PORT 1000`,
  start: (ctx) =>
    launchOnFreePort((port) => {
      // It opens the file as the user it runs as (nobody), adding a suffix of its own: a folder anyone may write to.
      const dir = outputPath(ctx, 'smtp-sink-write');
      chmodSync(ctx.tmpDir, 0o711);
      mkdirSync(dir);
      chmodSync(dir, 0o1777);
      return {
        name: 'smtp-sink-write',
        file: findExecutable('smtp-sink', SBIN)!,
        args: ['-u', 'nobody', '-m', '2000', '-c', '-D', path.join(dir, 'dump'), `${HOST}:${port}`, '1000'],
        outputFile: null,
        outputDir: dir,
        stdoutToOutput: false,
        ready: { kind: 'connect', port },
      };
    }),
};

/** Every server, in table order: ours first, then the peers from slowest to fastest as measured before. */
export const SERVERS: readonly ServerSpec[] = [
  smtpdTs('smtpd-ts', [], { viaOutputFlag: false, needs: [], marker: END_MESSAGE_LINE }),
  smtpdTs('smtpd-ts-json', ['-f', 'json'], { viaOutputFlag: false, needs: [/--format/, /json/], marker: '\n' }),
  smtpdTs('smtpd-ts-output', [], { viaOutputFlag: true, needs: [/--output/], marker: END_MESSAGE_LINE }),
  smtpdTs('smtpd-ts-null', [], { viaOutputFlag: false, toNull: true, needs: [], marker: END_MESSAGE_LINE }),
  smtpdTs('smtpd-ts-http', ['--http', `${HOST}:0`], {
    viaOutputFlag: false,
    needs: [/--http/],
    marker: END_MESSAGE_LINE,
  }),
  smtpdTs('smtpd-ts-workers', ['--workers', '2'], {
    viaOutputFlag: false,
    needs: [/--workers/],
    marker: END_MESSAGE_LINE,
  }),
  pythonSmtpd,
  aiosmtpd,
  smtpServer,
  smtpServerWrite,
  smtpSink,
  smtpSinkWrite,
];

export function findServer(name: string): ServerSpec | undefined {
  return SERVERS.find((s) => s.name === name);
}

/** Counts `marker` in a file, streaming (outputs of S3 are hundreds of MiB). */
export async function countInFile(file: string, marker: string): Promise<number> {
  const needle = Buffer.from(marker, 'latin1');
  let count = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let at = buf.indexOf(needle);
    let after = 0;
    while (at >= 0) {
      count++;
      after = at + needle.length;
      at = buf.indexOf(needle, after);
    }
    carry = buf.subarray(Math.max(after, buf.length - needle.length + 1));
  }
  return count;
}

/**
 * PIDs of a running Postfix master daemon: it would compete for the CPU.
 * Only read here; the bench never stops a process it did not start.
 */
export function postfixDaemons(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'master') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('postfix')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
