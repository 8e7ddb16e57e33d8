/**
 * CI mode: what ends a run and how scripts learn that the sink is ready.
 * `--exit-after N` ends it with 0 once N messages were accepted and written,
 * `--timeout S` with 3 when the run has not finished in time, and
 * `--ready-file` / `--pid-file` tell a script when and where the sink runs.
 */
import type { RefusalEvent } from '../message.js';
import { describeRefusal } from './refusals.js';
import { EXIT, type RunEnd } from '../exit-codes.js';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StartError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';
import { formatHostPort } from './flag-values.js';
import type { EventEmitter } from 'node:events';

/** The CI-mode part of the configuration. */
export interface RunControl {
  /** Exit 0 once this many messages were accepted; null: run until a signal. */
  readonly exitAfter: number | null;
  /** Exit 3 when the run has not finished after this many seconds; null: no limit. */
  readonly timeoutSeconds: number | null;
  /** Where to write `host:port` once the sink accepts connections. */
  readonly readyFile: string | null;
  /** Where to write the process id. */
  readonly pidFile: string | null;
}

/**
 * Writes `text` to `path` atomically (a temporary file in the same folder,
 * then rename), so a script polling for the file never reads half of it.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Watches a started server for the end of the run that `control` asks for.
 * Resolves when N messages were accepted (code 0) or the timeout passed
 * (code 3, saying how many arrived); signals are the caller's business.
 * `dispose()` stops watching.
 */
export function watchRun(
  server: Pick<EventEmitter, 'on' | 'off'>,
  control: RunControl,
): { ended: Promise<RunEnd>; dispose(): void } {
  let accepted = 0;
  let timer: NodeJS.Timeout | undefined;
  let onMessage: () => void = () => {};
  const refusals = new RefusalTally();
  const onRefusal = (r: RefusalEvent) => refusals.add(r);
  server.on('refusal', onRefusal);
  const ended = new Promise<RunEnd>((resolve) => {
    onMessage = () => {
      accepted++;
      if (accepted === control.exitAfter) resolve({ code: EXIT.OK, reason: null });
    };
    server.on('message', onMessage);
    if (control.timeoutSeconds !== null) {
      const seconds = control.timeoutSeconds;
      timer = setTimeout(() => {
        const got =
          control.exitAfter === null
            ? `${accepted} message(s) arrived`
            : `${accepted} of ${control.exitAfter} messages arrived`;
        resolve({ code: EXIT.TIMEOUT, reason: `timeout: ${seconds} s passed; ${got}${refusals.summary()}` });
      }, seconds * 1000);
    }
  });
  return {
    ended,
    dispose() {
      clearTimeout(timer);
      server.off('message', onMessage);
      server.off('refusal', onRefusal);
    },
  };
}

/** Counts refusals for the `--timeout` summary: how many, and the commonest few. */
class RefusalTally {
  private count = 0;
  private readonly kinds = new Map<string, number>();

  add(r: RefusalEvent): void {
    this.count++;
    const what = `${r.command} ${describeRefusal(r)}`;
    // Bounded: a flood of distinct refusals keeps the first few hundred kinds.
    if (this.kinds.has(what) || this.kinds.size < 256) this.kinds.set(what, (this.kinds.get(what) ?? 0) + 1);
  }

  /** `; 2 refused: DATA 552 5.3.4 Message too big for system (2)`, or '' when nothing was refused. */
  summary(): string {
    if (this.count === 0) return '';
    const top = [...this.kinds].sort((a, b) => b[1] - a[1]).slice(0, 3);
    const more = this.kinds.size > top.length ? '; ...' : '';
    return `; ${this.count} refused: ${top.map(([what, n]) => (n > 1 ? `${what} (${n})` : what)).join('; ')}${more}`;
  }
}

/**
 * Removes the ready and pid files at exit, so no stale file claims a
 * running sink. A file that cannot be removed is reported in one line: the
 * exit goes on.
 */
export async function removeRunFiles(control: RunControl, log?: NodeJS.WritableStream): Promise<void> {
  await Promise.all(
    [control.readyFile, control.pidFile].map((f) =>
      f
        ? rm(f, { force: true }).catch((err: Error) => log?.write(`smtpd-ts: cannot remove ${f}: ${err.message}\n`))
        : undefined,
    ),
  );
}

/** The same, synchronously, for an exit that cannot wait. */
export function removeRunFilesNow(control: RunControl): void {
  for (const f of [control.readyFile, control.pidFile]) {
    try {
      if (f) rmSync(f, { force: true });
    } catch {
      // Exiting anyway: nothing better to do.
    }
  }
}

/** Writes a run file, or says which flag's file could not be written, as whom, and why. */
async function writeRunFile(path: string, flag: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    const user = process.getuid?.() === 0 ? '' : ` as uid ${process.getuid?.()}`;
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `the folder ${dirname(path)} does not exist`
        : describeIoError(err);
    throw new StartError(`cannot write ${flag} ${path}${user}: ${why}`);
  }
}

/**
 * The run files come last, written by the user the sink runs as (who must
 * remove them at exit): a ready file always means a running sink.
 */
export async function writeRunFiles(
  control: RunControl,
  address: { readonly address: string; readonly port: number },
  httpUrl?: string,
): Promise<void> {
  if (control.pidFile) await writeRunFile(control.pidFile, '--pid-file', `${process.pid}\n`);
  // host:port of SMTP, then (with --http) the inbox's URL on a line of its own.
  if (control.readyFile)
    await writeRunFile(
      control.readyFile,
      '--ready-file',
      `${formatHostPort(address.address, address.port)}\n${httpUrl ? `${httpUrl}\n` : ''}`,
    );
}
