/**
 * The load generator: SMTP sessions over node:net that send messages as fast
 * as the server answers, checking the code of every reply (a wrong code
 * fails the run; it is never counted as a message).
 *
 * A job runs in three steps so that the harness can read the server's CPU
 * and memory around the timed part only:
 *   prepare  connect every session (a few at a time: Python smtpd listens
 *            with a backlog of 5), read the 220 and send EHLO, then send a
 *            few untimed warm-up messages (JIT compilers warm up, caches fill);
 *   go       the timed part: messages are taken from one shared counter by
 *            whichever session is free, lock-step (MAIL, RCPT, DATA, data:
 *            four round trips) or pipelined (MAIL+RCPT+DATA in one write,
 *            then the data once 354 has come, as RFC 2920 3.1 requires);
 *   finish   QUIT on every session (221 expected) and close.
 * Everything is bounded by the job's deadline; past it the sockets are
 * destroyed and the result says `timedOut`.
 *
 * It runs in its own process (load-worker.ts) during the bench so that its
 * CPU never shares an event loop with the harness, and in-process for S5's
 * single message.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ENVELOPE, wireMessage } from './messages.js';

export type LoadMode = 'lockstep' | 'pipelined' | 'idle';

export interface LoadJob {
  readonly host: string;
  readonly port: number;
  readonly mode: LoadMode;
  /** Sessions opened in prepare. */
  readonly connections: number;
  /** Messages sent in go, shared by every session (0 for idle). */
  readonly messages: number;
  /** Messages sent at the end of prepare, untimed. */
  readonly warmup: number;
  /** Bytes of message data per message (before `.CRLF`). */
  readonly messageSize: number;
  /** Bound on the whole job, every step included. */
  readonly timeoutMs: number;
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadResult {
  /** Every message sent and every reply as expected. */
  readonly ok: boolean;
  readonly timedOut: boolean;
  /** The first wrong reply or connection failure, with the session's last command. */
  readonly error: string | null;
  /** Messages answered 250 after their data. */
  readonly messages: number;
  /** Message data bytes of those messages. */
  readonly bytes: number;
  /** From go to the last 250, in ms. */
  readonly elapsedMs: number;
  /** Per message, from its MAIL to its final 250, in ms. */
  readonly latencyMs: Latency | null;
  /** Whether the EHLO reply advertised PIPELINING (pipelined mode pipelines either way). */
  readonly pipeliningAdvertised: boolean;
  /** CPU time this process (the generator) used during go, in ms: near elapsedMs, it was the bottleneck. */
  readonly generatorCpuMs: number;
}

/** Sessions awaiting their greeting at once: Python smtpd listens with a backlog of 5. */
const CONNECT_CONCURRENCY = 4;
/** A session whose greeting takes longer no longer holds a slot. */
const SLOW_GREETING_MS = 10;

/** A failure the run reports: a wrong code, a closed connection, a timeout. */
class LoadError extends Error {}

/**
 * One SMTP session: sends a command, states the codes it expects back, and
 * continues when the last of them has arrived. Replies are parsed from bytes
 * (multi-line aware); anything unexpected fails the session.
 */
export class Session {
  private tail = '';
  private readonly expected: number[] = [];
  private then: (() => void) | null = null;
  private lastSent = '(greeting)';
  /** Lines of the last complete reply (for EHLO keywords). */
  lastReply: string[] = [];
  private current: string[] = [];
  private failed = false;

  private constructor(
    readonly socket: net.Socket,
    private readonly onFail: (err: Error) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(new LoadError(`connection error after ${this.lastSent}: ${err.message}`)));
    socket.on('close', () => {
      if (this.then)
        this.fail(
          new LoadError(
            `connection closed by the server while waiting for ${this.expected.join(',')} after ${this.lastSent}`,
          ),
        );
    });
  }

  /**
   * Connects; `greeted` runs at the 220. The session is returned at once, so
   * that a run can close it even before it is greeted.
   */
  static open(host: string, port: number, onFail: (err: Error) => void, greeted: (s: Session) => void): Session {
    const session = new Session(net.connect({ host, port }), onFail);
    session.expect([220], () => greeted(session));
    return session;
  }

  /** Sends `data` (may be nothing, for the greeting) and runs `then` once `codes` have come back in order. */
  send(data: string | Buffer, label: string, codes: readonly number[], then: () => void): void {
    this.lastSent = label;
    this.expect(codes, then);
    this.socket.write(data);
  }

  private expect(codes: readonly number[], then: () => void): void {
    if (this.then) throw new Error('Session.send while a reply is awaited'); // a bug in this file
    this.expected.push(...codes);
    this.then = then;
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.then = null;
    this.socket.destroy();
    this.onFail(err);
  }

  private receive(chunk: Buffer): void {
    let text = this.tail + chunk.toString('latin1');
    let start = 0;
    for (;;) {
      const lf = text.indexOf('\n', start);
      if (lf < 0) break;
      const line = text.charCodeAt(lf - 1) === 0x0d ? text.slice(start, lf - 1) : text.slice(start, lf);
      start = lf + 1;
      this.line(line);
      if (this.failed) return;
    }
    text = text.slice(start);
    this.tail = text;
  }

  private line(line: string): void {
    const code = Number(line.slice(0, 3));
    if (line.length < 3 || !Number.isInteger(code) || (line.length > 3 && line[3] !== ' ' && line[3] !== '-')) {
      return this.fail(new LoadError(`malformed reply line ${JSON.stringify(line)} after ${this.lastSent}`));
    }
    this.current.push(line);
    if (line[3] === '-') return; // more lines of a multi-line reply follow
    this.lastReply = this.current;
    this.current = [];
    const want = this.expected.shift();
    if (want === undefined)
      return this.fail(new LoadError(`unexpected reply ${JSON.stringify(line)} after ${this.lastSent}`));
    if (code !== want)
      return this.fail(new LoadError(`expected ${want} after ${this.lastSent}, got ${JSON.stringify(line)}`));
    if (this.expected.length === 0) {
      const then = this.then;
      this.then = null;
      then?.();
    }
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const MAIL = `MAIL FROM:<${ENVELOPE.from}>\r\n`;
const RCPT = `RCPT TO:<${ENVELOPE.to}>\r\n`;
const DATA = 'DATA\r\n';
const PIPELINED = MAIL + RCPT + DATA;

/** One job against one server; the harness calls prepare, go and finish in turn. */
export class LoadRun {
  private readonly sessions: Session[] = [];
  private readonly deadline: number;
  private error: Error | null = null;
  private timedOut = false;
  private pipelining = false;
  private onError: ((err: Error) => void) | null = null;
  private timer: NodeJS.Timeout | undefined;
  private body: Buffer | undefined;

  constructor(readonly job: LoadJob) {
    this.deadline = performance.now() + job.timeoutMs;
  }

  private get remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  /** Records the first failure and stops everything. */
  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    clearTimeout(this.timer);
    for (const s of this.sessions) s.close();
    this.onError?.(err);
  }

  /** Resolves with `work`'s value, or rejects at the first failure or the deadline. */
  private bounded<T>(what: string, work: (resolve: (v: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.error) return reject(this.error);
      this.onError = reject;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.fail(new LoadError(`timed out after ${this.job.timeoutMs} ms (${what})`));
      }, this.remainingMs);
      work((v) => {
        clearTimeout(this.timer);
        this.onError = null;
        resolve(v);
      });
    });
  }

  /** Opens every session, says EHLO, and sends the warm-up messages. */
  async prepare(): Promise<void> {
    await this.connect();
    if (this.job.mode !== 'idle' && this.job.warmup > 0)
      await this.pump(this.job.warmup, `${this.job.warmup} warm-up messages`, () => {});
  }

  private connect(): Promise<void> {
    const { host, port, connections } = this.job;
    return this.bounded<void>('connecting', (done) => {
      let opened = 0;
      let ready = 0;
      const openNext = () => {
        if (opened >= connections || this.error) return;
        opened++;
        // The slot frees at the greeting, or after a while without one: smtp-server
        // holds every greeting back 100 ms (to catch early talkers), which would
        // otherwise make 1,000 sessions take 25 s.
        let freed = false;
        const free = () => {
          if (freed) return;
          freed = true;
          clearTimeout(slow);
          openNext();
        };
        const slow = setTimeout(free, SLOW_GREETING_MS);
        const session = Session.open(
          host,
          port,
          (err) => this.fail(err),
          () => {
            free();
            session.send('EHLO bench.example\r\n', 'EHLO', [250], () => {
              if (session.lastReply.some((l) => l.slice(4).toUpperCase() === 'PIPELINING')) this.pipelining = true;
              if (++ready === connections) done();
            });
          },
        );
        this.sessions.push(session);
      };
      for (let i = 0; i < Math.min(CONNECT_CONCURRENCY, connections); i++) openNext();
      if (connections === 0) done();
    });
  }

  /**
   * Sends `total` messages, each session taking the next one as soon as it
   * is free; `onMessage` gets each one's latency. Resolves with when the last
   * 250 came; rejects at the first failure or the deadline.
   */
  private pump(total: number, what: string, onMessage: (ms: number) => void): Promise<number> {
    const { mode, messageSize } = this.job;
    this.body ??= wireMessage(messageSize);
    const body = this.body;
    let claimed = 0;
    let ended = performance.now();
    return this.bounded<number>(what, (done) => {
      let active = this.sessions.length;
      if (total === 0 || active === 0) return done(ended);
      const next = (s: Session) => {
        if (this.error) return;
        if (claimed >= total) {
          if (--active === 0) done(ended);
          return;
        }
        claimed++;
        const t0 = performance.now();
        const finished = () => {
          ended = performance.now();
          onMessage(ended - t0);
          next(s);
        };
        const sendData = () => s.send(body, 'the message data', [250], finished);
        if (mode === 'pipelined') s.send(PIPELINED, 'MAIL+RCPT+DATA (pipelined)', [250, 250, 354], sendData);
        else
          s.send(MAIL, 'MAIL', [250], () => s.send(RCPT, 'RCPT', [250], () => s.send(DATA, 'DATA', [354], sendData)));
      };
      for (const s of this.sessions) next(s);
    });
  }

  /** The timed part: sends every message; never rejects (a failure is in the result). */
  async go(): Promise<LoadResult> {
    const { mode, messages: total, messageSize } = this.job;
    const latencies = new Float64Array(total);
    let completed = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    let ended = started;
    if (mode !== 'idle') {
      try {
        ended = await this.pump(total, `${mode}, ${total} messages`, (ms) => (latencies[completed++] = ms));
      } catch {
        // Recorded in this.error; reported below.
      }
    }
    const used = process.cpuUsage(cpu);
    const done = latencies.subarray(0, completed).sort();
    const ok = this.error === null && completed === total;
    return {
      ok,
      timedOut: this.timedOut,
      error: this.error?.message ?? null,
      messages: completed,
      bytes: completed * messageSize,
      elapsedMs: (ok ? ended : performance.now()) - started,
      latencyMs:
        completed > 0 ? { p50: percentile(done, 50), p99: percentile(done, 99), max: done[done.length - 1]! } : null,
      pipeliningAdvertised: this.pipelining,
      generatorCpuMs: (used.user + used.system) / 1000,
    };
  }

  /** QUIT on every session (221 expected), then close; resolves with the first failure, if any. */
  async finish(): Promise<string | null> {
    if (!this.error) {
      try {
        await this.bounded<void>('QUIT', (done) => {
          let left = this.sessions.length;
          if (left === 0) return done();
          for (const s of this.sessions) {
            s.send('QUIT\r\n', 'QUIT', [221], () => {
              s.socket.end();
              if (--left === 0) done();
            });
          }
        });
      } catch {
        // Recorded in this.error.
      }
    }
    clearTimeout(this.timer);
    for (const s of this.sessions) s.close();
    return this.error?.message ?? null;
  }

  /** Destroys every session now. */
  abort(): void {
    clearTimeout(this.timer);
    this.fail(new LoadError('aborted'));
  }

  /** Prepare, go, finish in one call (no measurement in between). */
  static async run(job: LoadJob): Promise<LoadResult> {
    const run = new LoadRun(job);
    try {
      await run.prepare();
    } catch {
      // reported by go()
    }
    const result = await run.go();
    const quitError = await run.finish();
    return quitError && result.ok ? { ...result, ok: false, error: quitError } : result;
  }
}
