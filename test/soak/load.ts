/**
 * The soak test's clients: N concurrent SMTP sessions over node:net that
 * send numbered messages and, as a seeded PRNG decides, abandon some of them
 * (a half-written command, a half-sent DATA, a hang-up right after the final
 * dot), reset some, send some over the size limit, and pipeline some
 * sessions. Every message gets a ledger entry saying what the client knows:
 *
 *   accepted   a 250 came after its data: it must be in the output once;
 *   refused    a 4xx/5xx came instead (552, 421, ...): it must not be there;
 *   abandoned  the client gave up before the final dot: it must not be there;
 *   unknown    the client hung up right after the final dot, before the
 *              reply: it may be there, at most once.
 *
 * Every session also records how it ended; only a QUIT answered 221, a
 * hang-up of our own, a 421 from the server, or (once the server is
 * stopping) a refused connection are normal endings. Every wait is bounded.
 */
import { prng } from '../helpers/byte-script.js';
import { SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';

/** What a client does with one message. */
export type Fate = 'normal' | 'rset' | 'oversize' | 'drop-command' | 'drop-data' | 'drop-after-dot' | 'stall';

/** Shares of each fate (the rest is `normal`): drops mid-command, mid-DATA and after the dot. */
export const FATE_SHARES: ReadonlyArray<readonly [Fate, number]> = [
  ['drop-command', 0.04],
  ['drop-data', 0.04],
  ['drop-after-dot', 0.04],
  ['rset', 0.02],
  ['oversize', 0.01],
];

export type Outcome = 'accepted' | 'refused' | 'abandoned' | 'unknown' | 'failed';

export interface MessageEntry {
  readonly token: string;
  readonly fate: Fate;
  /** Bytes of the message as the server stores it (dot-unstuffed, final CRLF included). */
  readonly size: number;
  outcome: Outcome;
  /** The reply code that decided `refused`. */
  code?: number;
}

/** How a session ended. The last three are failures. */
export type SessionEnd =
  'quit' | 'hung-up' | 'got-421' | 'refused' | 'closed-without-reply' | 'unexpected-reply' | 'no-reply';

export interface LoadPlan {
  readonly port: number;
  readonly clients: number;
  /** Messages to start at most, shared by every client. */
  readonly messages: number;
  /** No message is started after this time (ms since the epoch). */
  readonly deadline: number;
  readonly seed: number;
  /** Tokens are `<runId>-<n>`, so two runs never match each other's mail. */
  readonly runId: string;
  /** The server's `-s`; oversize messages exceed it. */
  readonly sizeLimit: number;
  /** Share of messages that are not `normal` (0 for a clean warm-up). */
  readonly faults: boolean;
  /**
   * Sessions that stop mid-DATA and wait for the server (SIGTERM variant:
   * they must get 421 after the grace period).
   */
  readonly stalls: number;
  /** Bound on every wait for a reply (a stall waits until the deadline, then this long). */
  readonly replyTimeoutMs: number;
}

const BODY_LINES = 256;
const MESSAGES_PER_SESSION = 8;
const PIPELINED_SHARE = 0.3;
const HANG_UP_IDLE_SHARE = 0.05;

/** Thrown inside a session when it must end; carries how. */
class End extends Error {
  constructor(
    readonly end: SessionEnd,
    detail = '',
  ) {
    super(detail || end);
  }
}

export class Load {
  readonly ledger = new Map<string, MessageEntry>();
  readonly sessionEnds = new Map<SessionEnd, number>();
  /** The first few failures, worded. */
  readonly failures: string[] = [];
  failureCount = 0;
  accepted = 0;
  /** Set by the caller when it stops the server: from then on a 421 or a refused connection is expected. */
  serverStopping = false;
  private started = 0;
  private stallsLeft: number;
  private serverGone = false;
  private readonly random: () => number;
  private readonly lines: string[];
  private readonly open = new Set<SmtpClient>();

  constructor(readonly plan: LoadPlan) {
    this.random = prng(plan.seed);
    this.stallsLeft = plan.stalls;
    const chars = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:-_';
    this.lines = Array.from({ length: BODY_LINES }, (_, i) => {
      const length = Math.floor(this.random() * 78);
      let line = i % 16 === 0 ? '.' : ''; // lines that need dot-stuffing
      while (line.length < length) line += chars[Math.floor(this.random() * chars.length)];
      return line;
    });
  }

  /** Runs every client until the messages are used up, the deadline passes, or the server is gone. */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.plan.clients }, (_, i) => this.client(i)));
  }

  /** Ends every open session now (the caller's hard time bound). */
  destroyAll(): void {
    for (const c of this.open) c.close();
  }

  /** Counts of ledger outcomes. */
  outcomes(): Record<Outcome, number> {
    const counts: Record<Outcome, number> = { accepted: 0, refused: 0, abandoned: 0, unknown: 0, failed: 0 };
    for (const m of this.ledger.values()) counts[m.outcome]++;
    return counts;
  }

  private async client(worker: number): Promise<void> {
    while (!this.serverGone && this.started < this.plan.messages && Date.now() < this.plan.deadline) {
      const end = await this.session(worker);
      this.sessionEnds.set(end, (this.sessionEnds.get(end) ?? 0) + 1);
      if (end === 'got-421' || end === 'refused') this.serverGone = true;
    }
  }

  private fail(text: string): void {
    this.failureCount++;
    if (this.failures.length < 20) this.failures.push(text);
  }

  private async session(worker: number): Promise<SessionEnd> {
    let client: SmtpClient;
    try {
      client = await SmtpClient.connect(this.plan.port, '127.0.0.1', this.plan.replyTimeoutMs);
    } catch (err) {
      if (!this.serverStopping) this.fail(`client ${worker}: cannot connect: ${(err as Error).message}`);
      return 'refused';
    }
    this.open.add(client);
    try {
      const end = await this.converse(client, worker);
      if (end === 'refused' && !this.serverStopping)
        this.fail(`client ${worker}: the connection closed before the greeting`);
      return end;
    } catch (err) {
      if (!(err instanceof End)) throw err;
      if (err.end !== 'got-421' || !this.serverStopping) this.fail(`client ${worker}: ${err.message}`);
      return err.end;
    } finally {
      client.close();
      this.open.delete(client);
    }
  }

  /** The next reply; a 421 or a closed connection ends the session (as `expect` says). */
  private async reply(client: SmtpClient, after: string, timeoutMs = this.plan.replyTimeoutMs): Promise<SmtpReply> {
    let r: SmtpReply;
    try {
      r = await client.read(timeoutMs);
    } catch (err) {
      const text = (err as Error).message;
      if (text.startsWith('connection closed'))
        throw new End('closed-without-reply', `connection closed without a reply to ${after}`);
      throw new End('no-reply', `${text} (after ${after})`);
    }
    if (r.code === 421) throw new End('got-421', `421 ${r.lines.join(' / ')} after ${after}`);
    return r;
  }

  private async expect(client: SmtpClient, code: number, after: string): Promise<void> {
    const r = await this.reply(client, after);
    if (r.code !== code)
      throw new End('unexpected-reply', `${r.code} ${r.lines.join(' / ')} after ${after}, expected ${code}`);
  }

  private async converse(client: SmtpClient, worker: number): Promise<SessionEnd> {
    try {
      await this.expect(client, 220, 'connecting');
    } catch (err) {
      // A connection the server never greeted: refused by a server that is stopping.
      if (err instanceof End && err.end === 'closed-without-reply') return 'refused';
      throw err;
    }
    client.write('EHLO soak.test\r\n');
    await this.expect(client, 250, 'EHLO');
    const pipelined = this.random() < PIPELINED_SHARE;
    const count = 1 + Math.floor(this.random() * MESSAGES_PER_SESSION);
    for (let i = 0; i < count; i++) {
      const message = this.take(worker);
      if (!message) break;
      const end = await this.send(client, message, pipelined);
      if (end) return end;
    }
    if (this.random() < HANG_UP_IDLE_SHARE) return 'hung-up';
    client.write('QUIT\r\n');
    await this.expect(client, 221, 'QUIT');
    try {
      await client.waitClosed(this.plan.replyTimeoutMs);
    } catch {
      throw new End('no-reply', 'the server did not close the connection after 221');
    }
    return 'quit';
  }

  /**
   * Starts the next message of the run, or none when the run is over. (A
   * session that is open when the server stops goes on with its next
   * message, as a real client would, and hears 421 for its MAIL.)
   */
  private take(worker: number): { entry: MessageEntry; wire: string; envelope: string[] } | undefined {
    if (this.started >= this.plan.messages || Date.now() >= this.plan.deadline) return undefined;
    const n = ++this.started;
    const token = `${this.plan.runId}-${n}`;
    let fate: Fate = 'normal';
    if (this.stallsLeft > 0) {
      this.stallsLeft--;
      fate = 'stall';
    } else if (this.plan.faults) {
      let x = this.random();
      for (const [f, share] of FATE_SHARES) {
        if (x < share) {
          fate = f;
          break;
        }
        x -= share;
      }
    }
    const headers = [
      `From: client${worker}@soak.test`,
      `To: rcpt${n % 7}@sink.test`,
      `Subject: soak ${token}`,
      `Message-ID: <${token}@soak.test>`,
    ];
    const body: string[] = [];
    const target = fate === 'oversize' ? this.plan.sizeLimit + 4096 : 64 + Math.floor(this.random() ** 3 * 8192);
    for (let size = 0; size < target;) {
      const line = this.lines[Math.floor(this.random() * BODY_LINES)]!;
      body.push(line);
      size += line.length + 2;
    }
    const text = `${headers.join('\r\n')}\r\n\r\n${body.join('\r\n')}`;
    const wire = `${headers.join('\r\n')}\r\n\r\n${body.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}`;
    const rcpts = 1 + Math.floor(this.random() * 3);
    const envelope = [
      `MAIL FROM:<client${worker}@soak.test>`,
      ...Array.from({ length: rcpts }, (_, i) => `RCPT TO:<rcpt${i}@sink.test>`),
    ];
    const entry: MessageEntry = { token, fate, size: text.length + 2, outcome: 'failed' };
    this.ledger.set(token, entry);
    return { entry, wire, envelope };
  }

  /** One transaction; returns how the session ended if it did. */
  private async send(
    client: SmtpClient,
    m: { entry: MessageEntry; wire: string; envelope: string[] },
    pipelined: boolean,
  ): Promise<SessionEnd | undefined> {
    const { entry } = m;
    try {
      if (entry.fate === 'drop-command') {
        // Hang up halfway through MAIL, a RCPT or DATA.
        const at = Math.floor(this.random() * (m.envelope.length + 1));
        for (const line of m.envelope.slice(0, at)) {
          client.write(`${line}\r\n`);
          await this.expect(client, 250, line);
        }
        const line = m.envelope[at] ?? 'DATA';
        client.write(line.slice(0, Math.ceil(line.length / 2)));
        entry.outcome = 'abandoned';
        return 'hung-up';
      }
      const commands = entry.fate === 'rset' ? [...m.envelope, 'RSET'] : [...m.envelope, 'DATA'];
      const codes = commands.map((c) => (c === 'DATA' ? 354 : 250));
      if (pipelined) client.write(commands.map((c) => `${c}\r\n`).join(''));
      for (const [i, line] of commands.entries()) {
        if (!pipelined) client.write(`${line}\r\n`);
        await this.expect(client, codes[i]!, line);
      }
      if (entry.fate === 'rset') {
        entry.outcome = 'abandoned';
        return undefined;
      }
      if (entry.fate === 'drop-data' || entry.fate === 'stall') {
        client.write(m.wire.slice(0, Math.floor(m.wire.length * (0.1 + 0.8 * this.random()))));
        entry.outcome = 'abandoned';
        if (entry.fate === 'drop-data') return 'hung-up';
        // It waits for the server to stop (before the deadline) and its grace period to end.
        const r = await this.reply(
          client,
          'a stalled DATA',
          Math.max(0, this.plan.deadline - Date.now()) + this.plan.replyTimeoutMs,
        );
        throw new End('unexpected-reply', `${r.code} to a stalled DATA, expected none until 421`);
      }
      client.write(`${m.wire}\r\n.\r\n`);
      if (entry.fate === 'drop-after-dot') {
        entry.outcome = 'unknown';
        return 'hung-up';
      }
      entry.outcome = 'unknown'; // until the reply says
      const r = await this.reply(client, 'the final dot');
      if (r.code === 250) {
        entry.outcome = 'accepted';
        this.accepted++;
      } else if (entry.fate === 'oversize' && r.code === 552) {
        entry.outcome = 'refused';
        entry.code = 552;
      } else {
        throw new End(
          'unexpected-reply',
          `${r.code} ${r.lines.join(' / ')} after the final dot of ${entry.token} (${entry.fate})`,
        );
      }
      return undefined;
    } catch (err) {
      if (err instanceof End && err.end === 'got-421') {
        if (entry.outcome !== 'abandoned') entry.outcome = 'refused';
        entry.code = 421;
      }
      throw err;
    }
  }
}
