/**
 * `npm run attack -- --seconds 600 [--round smtp|inbox|all]`: the hostile
 * classes of the hardening work, run in rounds against the real CLI (every
 * printer, lint, the transcript, a Maildir, STARTTLS) until the time is up,
 * with a bystander client measuring how long a greeting takes meanwhile
 * (the inbox's round, with `--http`: inbox.ts). Each class:
 *
 *   redos       From headers built to make a backtracking pattern explode
 *   controls    a 30 MiB body of ESC, NUL, C1 or bidi characters
 *   lf-flood    16 MiB of bare LFs from a client that never reads its replies
 *   noop-flood  200,000 pipelined NOOPs in one transcribed session
 *   silent-tls  STARTTLS, then silence (the command timeout must end it)
 *   half-close  a whole session, then shutdown(SHUT_WR): every reply must come
 *   envelope    CR in a quoted local part, written to the Maildir
 *   mime        an empty Content-Type and a 150,000-line text body
 *
 * At the end the sink gets SIGTERM: it must exit 0 within its grace period,
 * and every message answered 250 must be in the JSON output exactly once.
 * Figures go to stdout as JSON; the run fails (exit 1) when the sink died,
 * lost a message, or a bystander waited 100 ms or more for a greeting.
 * Only loopback is used, every loop is bounded, and only the CLI started
 * here is ended, by its PID.
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { memory } from '../bench/proc-stats.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { exitStatus } from '../helpers/process.js';
import { attackInbox, INBOX_CLASSES, type InboxAttackReport } from './inbox.js';
import {
  BYSTANDER_BOUND_MS,
  bystander,
  drainMaildir,
  Raw,
  sendOne,
  tallyAndTruncate,
  TRANSACTION,
  type Tally,
} from './common.js';

type ClassName = 'redos' | 'controls' | 'lf-flood' | 'noop-flood' | 'silent-tls' | 'half-close' | 'envelope' | 'mime';

export interface AttackReport {
  readonly seconds: number;
  readonly cases: Record<ClassName, number>;
  readonly connections: number;
  readonly accepted: number;
  readonly inOutput: number;
  readonly peakRssMiB: number;
  readonly worstGreetingMs: number;
  readonly exitCode: number | null;
  readonly failures: readonly string[];
}

function controlBody(kind: number): Buffer {
  const size = 30 << 20;
  const unit = [Buffer.from([0x1b]), Buffer.from([0x00]), Buffer.from('\u009b'), Buffer.from('\u202e')][kind % 4]!;
  const body = Buffer.alloc(size);
  for (let i = 0; i + unit.length <= size; i += unit.length) unit.copy(body, i);
  return Buffer.concat([Buffer.from('Subject: controls\r\n\r\n'), body]);
}

export async function attack(seconds: number, log: (line: string) => void = () => {}): Promise<AttackReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-attack-'));
  const jsonFile = path.join(dir, 'out.jsonl');
  const rawFile = path.join(dir, 'out.raw');
  const parsedFile = path.join(dir, 'out.parsed');
  const maildir = path.join(dir, 'Maildir');
  const failures: string[] = [];
  const cases: Record<ClassName, number> = {
    redos: 0,
    controls: 0,
    'lf-flood': 0,
    'noop-flood': 0,
    'silent-tls': 0,
    'half-close': 0,
    envelope: 0,
    mime: 0,
  };
  let connections = 0;
  let accepted = 0;
  let worstGreetingMs = 0;
  let peak = 0;
  const cli: RunningCli = await startCli([
    '127.0.0.1:0',
    '-o',
    `raw:${rawFile}`,
    '-o',
    `parsed:${parsedFile}`,
    '-o',
    `json:${jsonFile}`,
    '--save-dir',
    maildir,
    '--transcript',
    '--lint',
    '--tls',
    '--command-timeout',
    '2',
    '--data-timeout',
    '10',
    '--max-connections',
    '256',
  ]);
  const port = cli.port;
  const pid = cli.child.pid!;
  const sample = () => (peak = Math.max(peak, memory(pid).hwmKiB));
  const classes: Record<ClassName, (round: number) => Promise<void>> = {
    async redos(round) {
      const chars = ['a', '!', 'a.', ' ', '=?utf-8?q?x?=', '\t'];
      const name = chars[round % chars.length]!.repeat(randomInt(20, 5000));
      connections++;
      if (await sendOne(port, `From: ${name}; <x@y.test>\r\nTo: v@sink.test\r\nSubject: redos\r\n\r\nbody`)) accepted++;
    },
    async controls(round) {
      connections += 1;
      const { result, worstMs } = await bystander(port, sendOne(port, controlBody(round)));
      if (result) accepted++;
      worstGreetingMs = Math.max(worstGreetingMs, worstMs);
      if (worstMs >= BYSTANDER_BOUND_MS)
        failures.push(`controls round ${round}: a greeting took ${worstMs.toFixed(0)} ms`);
    },
    async 'lf-flood'() {
      connections++;
      const c = await Raw.connect(port);
      c.socket.pause(); // never reads
      for (let i = 0; i < 16; i++) c.socket.write(Buffer.alloc(1 << 20, 0x0a));
      await new Promise((r) => setTimeout(r, 1000));
      sample();
      c.socket.destroy();
    },
    async 'noop-flood'() {
      connections++;
      const c = await Raw.connect(port);
      await c.until((t) => t.includes('220 '));
      for (let i = 0; i < 20; i++) c.socket.write('NOOP\r\n'.repeat(10_000));
      c.socket.write('QUIT\r\n');
      if (!(await c.until((t) => t.includes('221 ')))) failures.push('noop-flood: no 221');
      c.text = '';
      c.socket.destroy();
    },
    async 'silent-tls'() {
      connections++;
      const c = await Raw.connect(port);
      c.socket.write('EHLO x\r\nSTARTTLS\r\n');
      await c.until((t) => t.includes('220 Ready'));
      // The command timeout is 2 s, the linger 2 s: it must be closed well within 10.
      if (!(await c.until(() => false, 10_000)) && !c.closed) failures.push('silent-tls: still open after 10 s');
      c.socket.destroy();
    },
    async 'half-close'() {
      connections++;
      const c = await Raw.connect(port);
      c.socket.end(`${TRANSACTION('h@attacker.test')}Subject: half\r\n\r\nbody\r\n.\r\nQUIT\r\n`);
      await c.until(() => false, 10_000);
      const codes = c.codes();
      if (codes.join() !== '220,250,250,250,354,250,221') failures.push(`half-close: got ${codes.join()}`);
      else accepted++;
    },
    async envelope() {
      connections++;
      if (await sendOne(port, 'Subject: real\r\n\r\nbody', '"x\rSubject: FAKE\rFrom: ceo@bank.test\r\r"@evil.test'))
        accepted++;
    },
    async mime(round) {
      connections++;
      const body =
        round % 2
          ? 'Subject: lines\r\n\r\n' + 'line\r\n'.repeat(150_000)
          : 'Subject: a\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type:\r\nContent-Disposition: attachment; filename=x.bin\r\n\r\nxyz\r\n--b--';
      if (await sendOne(port, body)) accepted++;
    },
  };
  const tally: Tally = { messages: [], withdrawn: new Set(), offset: 0 };
  /** Looks for forged headers in what the Maildir got, then removes it (a long run would fill the disk). */
  const checkMaildir = () =>
    drainMaildir(maildir, (start, file) => {
      const head = start.split('\n\n')[0]!;
      if (/^Subject: FAKE/m.test(head) || /^From: ceo@bank\.test/m.test(head))
        failures.push(`a forged header in ${file}`);
    });
  const started = Date.now();
  const names = Object.keys(classes) as ClassName[];
  try {
    for (let round = 0; Date.now() - started < seconds * 1000 && round < 100_000; round++) {
      for (const name of names) {
        if (Date.now() - started >= seconds * 1000 && round > 0) break;
        await classes[name](round);
        cases[name]++;
        sample();
        if (cli.child.exitCode !== null) throw new Error(`the sink died during ${name}: ${cli.stderr().slice(-2000)}`);
      }
      // Session lines land after their connection closed: let them, then take stock and make room.
      await new Promise((r) => setTimeout(r, 200));
      await tallyAndTruncate(jsonFile, tally);
      for (const f of [rawFile, parsedFile]) await truncate(f, 0);
      await checkMaildir();
      log(
        `attack: round ${round + 1}, ${accepted} accepted, peak ${(peak / 1024).toFixed(0)} MiB, worst greeting ${worstGreetingMs.toFixed(1)} ms`,
      );
    }
  } catch (err) {
    failures.push((err as Error).message);
  }
  cli.child.kill('SIGTERM');
  const { code } = await exitStatus(cli.child, 30_000);
  if (code !== 0) failures.push(`the sink exited ${code} on SIGTERM`);
  await tallyAndTruncate(jsonFile, tally);
  await checkMaildir();
  const inOutput = tally.messages.filter((id) => !tally.withdrawn.has(id)).length;
  if (inOutput !== accepted) failures.push(`${accepted} messages got 250, ${inOutput} are in the JSON output`);
  if (new Set(tally.messages).size !== tally.messages.length) failures.push('a message is in the JSON output twice');
  await rm(dir, { recursive: true, force: true });
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    cases,
    connections,
    accepted,
    inOutput,
    peakRssMiB: Math.round(peak / 1024),
    worstGreetingMs: Math.round(worstGreetingMs * 10) / 10,
    exitCode: code,
    failures,
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      round: { type: 'string', default: 'all' },
      only: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    process.stderr.write('attack: --seconds needs a positive number\n');
    process.exit(2);
  }
  if (!['smtp', 'inbox', 'all'].includes(values.round)) {
    process.stderr.write('attack: --round is smtp, inbox or all\n');
    process.exit(2);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const reports: { smtp?: AttackReport; inbox?: InboxAttackReport } = {};
  if (values.round !== 'inbox') reports.smtp = await attack(seconds, log);
  const only = values.only?.split(',') ?? INBOX_CLASSES;
  if (values.round !== 'smtp') reports.inbox = await attackInbox(seconds, log, only);
  process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  process.exitCode = Object.values(reports).every((r) => r.failures.length === 0) ? 0 : 1;
}
