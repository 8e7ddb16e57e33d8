/**
 * POP3 (RFC 1939, with CAPA and its response codes from RFC 2449 and STLS
 * from RFC 2595) as a sans-I/O state machine: bytes in, replies and
 * requests out, no sockets and no timers. What needs the world (checking a
 * password and opening the maildrop, reading a message, deleting at QUIT)
 * is a request the server answers with `resume`; commands that arrive
 * meanwhile (pipelining) wait in the buffer and are read after it.
 */

/** A message of the maildrop, as the session numbers it (1 is the first). */
export interface Pop3Entry {
  /** Its unique-id listing (UIDL): the inbox ID. */
  readonly uid: string;
  /** Its size in octets, as RETR sends it. */
  readonly size: number;
}

/** What the server is asked to do; the session waits for `resume`. */
export type Pop3Request =
  | { readonly kind: 'login'; readonly user: string; readonly password: string }
  | { readonly kind: 'retrieve'; readonly uid: string; readonly lines: number | null }
  | { readonly kind: 'update'; readonly deleted: readonly string[] }
  | { readonly kind: 'starttls' }
  | { readonly kind: 'close' };

/** The server's answer to a request: a maildrop or null (a login), a message's bytes or null (gone). */
export type Pop3Answer = readonly Pop3Entry[] | Buffer | null | undefined;

export interface Pop3Output {
  /** Bytes to send, in order. */
  readonly replies: Buffer[];
  /** The request the session now waits on, if any (then `close` after `starttls`/`update` answers). */
  readonly request: Pop3Request | null;
}

export interface Pop3Options {
  /** STLS is offered (the server has a certificate and the session is not yet secure). */
  readonly tls: boolean;
  /** USER and PASS are taken without TLS (loopback, or the operator allows it). */
  readonly plainAuth: boolean;
}

/** The longest command line taken (RFC 2449: 255 octets); a longer one is refused and skipped. */
export const MAX_POP3_LINE = 255;
/** Refused commands a session may send before it is closed. */
const MAX_ERRORS = 20;

type State = 'authorization' | 'transaction' | 'closed';

const ok = (text: string) => Buffer.from(`+OK ${text}\r\n`);
const err = (text: string) => Buffer.from(`-ERR ${text}\r\n`);

/**
 * `data` as a multi-line response body (RFC 1939 3): every line that
 * starts with `.` gets another, lines end with CRLF (a bare LF gets its
 * CR), and `.` ends it; `lines` cuts the body after that many lines (TOP),
 * the header always whole. Made in one pass over the bytes, into one buffer.
 */
export function dotStuffed(data: Buffer, lines: number | null = null): Buffer {
  const out = Buffer.allocUnsafe(data.length * 2 + 5);
  let at = 0;
  let lineStart = true;
  /** Bytes of the line so far other than CR: 0 at its LF means an empty line. */
  let lineBytes = 0;
  let inBody = false;
  let bodyLines = 0;
  let previous = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (lines !== null && inBody && lineStart && bodyLines >= lines) break;
    if (lineStart && byte === 0x2e) out[at++] = 0x2e;
    if (byte === 0x0a) {
      if (previous !== 0x0d) out[at++] = 0x0d;
      out[at++] = 0x0a;
      // The header ends at its first empty line; after it, lines are counted for TOP.
      if (inBody) bodyLines++;
      else if (lineBytes === 0) inBody = true;
      lineStart = true;
      lineBytes = 0;
    } else {
      out[at++] = byte;
      lineStart = false;
      if (byte !== 0x0d) lineBytes++;
    }
    previous = byte;
  }
  if (!lineStart) {
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  out[at++] = 0x2e;
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return out.subarray(0, at);
}

export class Pop3Channel {
  private state: State = 'authorization';
  private buffer: Buffer = Buffer.alloc(0);
  private user: string | null = null;
  private drop: readonly Pop3Entry[] = [];
  private readonly deleted = new Set<number>();
  private waiting: Pop3Request | null = null;
  private errors = 0;
  private secure = false;

  constructor(private readonly options: Pop3Options) {}

  /** The greeting. */
  greet(): Buffer {
    return ok('smtpd-ts POP3 ready');
  }

  /** Reads `data`; answers every whole command until one needs the server. */
  receive(data: Buffer): Pop3Output {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    return this.run([]);
  }

  /** The server's answer to the request the session waits on; goes on with what is buffered. */
  resume(answer: Pop3Answer): Pop3Output {
    const request = this.waiting;
    this.waiting = null;
    const replies: Buffer[] = [];
    switch (request?.kind) {
      case 'login':
        if (Array.isArray(answer)) {
          this.drop = answer;
          this.state = 'transaction';
          replies.push(ok(`${this.user}'s maildrop has ${answer.length} messages`));
        } else {
          this.user = null;
          replies.push(this.refuse('[AUTH] wrong user name or password'));
        }
        break;
      case 'retrieve':
        if (Buffer.isBuffer(answer)) {
          const said = request.lines === null ? `${answer.length} octets` : 'top of message follows';
          replies.push(ok(said), dotStuffed(answer, request.lines));
        } else replies.push(err('that message is no longer there'));
        break;
      case 'update':
        this.state = 'closed';
        return { replies: [ok('bye')], request: { kind: 'close' } };
      case 'starttls':
        this.secure = true;
        break;
      default:
        break;
    }
    return this.run(replies);
  }

  private run(replies: Buffer[]): Pop3Output {
    while (this.waiting === null && this.state !== 'closed') {
      const end = this.buffer.indexOf('\n');
      if (end < 0) {
        // A line this long without its end is refused now, not held.
        if (this.buffer.length > MAX_POP3_LINE) {
          this.buffer = Buffer.alloc(0);
          replies.push(this.refuse('line too long'));
        }
        break;
      }
      const line = this.buffer.subarray(0, end).toString('latin1').replace(/\r$/, '');
      this.buffer = this.buffer.subarray(end + 1);
      if (end > MAX_POP3_LINE) {
        replies.push(this.refuse('line too long'));
        continue;
      }
      replies.push(...this.command(line));
      if (this.errors > MAX_ERRORS) {
        this.state = 'closed';
        replies.push(err('too many errors; bye'));
        return { replies, request: { kind: 'close' } };
      }
    }
    const request = this.state === 'closed' && this.waiting === null ? { kind: 'close' as const } : this.waiting;
    return { replies, request };
  }

  private refuse(text: string): Buffer {
    this.errors++;
    return err(text);
  }

  /** The message `arg` numbers (1-based, not deleted), or the error reply. */
  private numbered(arg: string | undefined): { n: number; entry: Pop3Entry } | Buffer {
    if (arg === undefined || !/^[1-9][0-9]{0,9}$/.test(arg)) return this.refuse('a message number is needed');
    const n = Number(arg);
    const entry = this.drop[n - 1];
    if (!entry) return this.refuse(`no message ${n}`);
    if (this.deleted.has(n)) return this.refuse(`message ${n} is deleted`);
    return { n, entry };
  }

  private command(line: string): Buffer[] {
    const [word = '', ...args] = line.split(' ');
    const verb = word.toUpperCase();
    if (verb === 'QUIT') {
      if (this.state === 'transaction') {
        this.waiting = { kind: 'update', deleted: [...this.deleted].map((n) => this.drop[n - 1]!.uid) };
        return [];
      }
      this.state = 'closed';
      return [ok('bye')];
    }
    if (verb === 'CAPA') {
      const caps = ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'IMPLEMENTATION smtpd-ts'];
      if (this.state === 'authorization') {
        if (this.options.tls && !this.secure) caps.push('STLS');
        if (this.options.plainAuth || this.secure) caps.push('USER');
      }
      return [ok('capabilities follow'), Buffer.from(`${caps.join('\r\n')}\r\n.\r\n`)];
    }
    if (verb === 'NOOP' && this.state === 'transaction') return [ok('')];
    return this.state === 'authorization' ? this.authorization(verb, args) : this.transaction(verb, args);
  }

  private authorization(verb: string, args: string[]): Buffer[] {
    switch (verb) {
      case 'STLS':
        if (!this.options.tls || this.secure) return [this.refuse('STLS is not offered here')];
        this.waiting = { kind: 'starttls' };
        return [ok('begin TLS negotiation')];
      case 'USER':
        if (!this.options.plainAuth && !this.secure)
          return [this.refuse('[AUTH] a password is taken only over TLS here: STLS first')];
        if (args.length !== 1 || args[0] === '') return [this.refuse('USER takes one name')];
        this.user = args[0]!;
        return [ok('send PASS')];
      case 'PASS':
        if (this.user === null) return [this.refuse('USER first')];
        // A password may hold spaces: everything after the first.
        this.waiting = { kind: 'login', user: this.user, password: args.join(' ') };
        return [];
      default:
        return [this.refuse(verb === '' ? 'no command' : 'not in this state: USER, PASS, STLS, CAPA or QUIT')];
    }
  }

  private transaction(verb: string, args: string[]): Buffer[] {
    const live = this.drop.map((e, i) => ({ n: i + 1, e })).filter(({ n }) => !this.deleted.has(n));
    switch (verb) {
      case 'STAT':
        return [ok(`${live.length} ${live.reduce((s, { e }) => s + e.size, 0)}`)];
      case 'LIST':
      case 'UIDL': {
        const show = (n: number, e: Pop3Entry) => `${n} ${verb === 'LIST' ? e.size : e.uid}`;
        if (args.length > 0) {
          const one = this.numbered(args[0]);
          return Buffer.isBuffer(one) ? [one] : [ok(show(one.n, one.entry))];
        }
        const body = live.map(({ n, e }) => `${show(n, e)}\r\n`).join('');
        return [ok(`${live.length} messages`), Buffer.from(`${body}.\r\n`)];
      }
      case 'RETR':
      case 'TOP': {
        const one = this.numbered(args[0]);
        if (Buffer.isBuffer(one)) return [one];
        let lines: number | null = null;
        if (verb === 'TOP') {
          if (!/^[0-9]{1,9}$/.test(args[1] ?? '')) return [this.refuse('TOP takes a message number and a line count')];
          lines = Number(args[1]);
        }
        this.waiting = { kind: 'retrieve', uid: one.entry.uid, lines };
        return [];
      }
      case 'DELE': {
        const one = this.numbered(args[0]);
        if (Buffer.isBuffer(one)) return [one];
        this.deleted.add(one.n);
        return [ok(`message ${one.n} deleted`)];
      }
      case 'RSET':
        this.deleted.clear();
        return [ok(`${this.drop.length} messages`)];
      default:
        return [this.refuse('unknown command')];
    }
  }
}
