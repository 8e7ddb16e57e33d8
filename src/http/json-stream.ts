/**
 * JSON responses whose size the mail decides. A message of 30 MiB of
 * control bytes is 180 MiB of JSON (`\u0000` for each byte), and MailHog's
 * shapes hold every message twice: built as one string per request, a
 * dozen requests took the process past its heap. Here a value is written
 * in pieces of at most PIECE characters of JSON, each written when the
 * socket takes it (backpressure) and with a turn of the event loop at least
 * every YIELD_BYTES, so one response holds little more than a piece
 * however large the mail, and other clients are served in between. Values
 * with nothing large in them are written as before, in one piece with a
 * Content-Length.
 */
import type http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { slices } from '../slices.js';

/** The characters of a string written as one piece; a longer string is cut. */
const PIECE = 64 * 1024;

/** Bytes written between two turns of the event loop. */
const YIELD_BYTES = 256 * 1024;

/**
 * A value made only when the writer reaches it: a list of large messages
 * is built one message at a time, each just before it is written, instead
 * of all of them on one turn of the event loop. An answer holding one is
 * always streamed.
 */
export class Deferred {
  constructor(readonly make: () => unknown) {}
}

/**
 * A string given as its UTF-8 bytes, decoded a piece at a time as it is
 * written (invalid bytes as U+FFFD, as `toString` does): a 30 MiB text is
 * never one string on the server's thread (making one costs 100 ms here).
 */
export class Utf8Text {
  constructor(readonly bytes: Buffer) {}
}

/** Whether `value` holds a string over PIECE characters, or over 1 MiB of strings in all (walked to that point). */
function large(value: unknown): boolean {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof Deferred || v instanceof Utf8Text) return true;
    if (typeof v === 'string') {
      total += v.length;
      if (v.length > PIECE || total > 1 << 20) return true;
    } else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      // One at a time: a spread of a huge array (a header block of a million fields) overflows the stack.
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
    }
  }
  return false;
}

/** A string as JSON, in pieces: each piece a run of at most PIECE characters (slices.ts). */
function* stringPieces(s: string): Generator<string> {
  if (s.length <= PIECE) {
    yield JSON.stringify(s);
    return;
  }
  yield '"';
  for (const slice of slices([s], PIECE)) yield JSON.stringify(slice).slice(1, -1);
  yield '"';
}

/** Bytes as a JSON string, decoded PIECE bytes at a time (a character cut between two is kept whole). */
function* utf8Pieces(bytes: Buffer): Generator<string> {
  const decoder = new StringDecoder('utf8');
  yield '"';
  for (const slice of slices([bytes], PIECE)) yield JSON.stringify(decoder.write(slice)).slice(1, -1);
  yield `${JSON.stringify(decoder.end()).slice(1, -1)}"`;
}

/** `value` as JSON.stringify writes it (toJSON, undefined left out of objects and null in arrays), in pieces. */
function* pieces(value: unknown): Generator<string> {
  if (value instanceof Deferred) return yield* pieces(value.make());
  if (value instanceof Utf8Text) return yield* utf8Pieces(value.bytes);
  if (typeof value === 'string') return yield* stringPieces(value);
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return yield JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      const v: unknown = value[i];
      if (v === undefined || typeof v === 'function') yield 'null';
      else yield* pieces(v);
    }
    return yield ']';
  }
  yield '{';
  let first = true;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* pieces(v);
  }
  yield '}';
}

/** Writes `value` as a 200 JSON response of `type`: in one piece when small, else streamed as above. */
export async function writeJson(res: http.ServerResponse, value: unknown, type: string): Promise<void> {
  if (!large(value)) {
    const body = `${JSON.stringify(value)}\n`;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(200, { 'Content-Type': type });
  let pending = '';
  let sinceTurn = 0;
  const flush = async () => {
    const ok = res.write(pending);
    sinceTurn += pending.length;
    pending = '';
    if (!ok && !res.destroyed)
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    if (sinceTurn >= YIELD_BYTES) {
      sinceTurn = 0;
      await nextTurn();
    }
  };
  for (const piece of pieces(value)) {
    if (res.destroyed) return;
    pending += piece;
    if (pending.length >= PIECE) await flush();
  }
  pending += '\n';
  await flush();
  res.end();
}

/**
 * Bytes of stored mail that responses in flight may turn into strings at
 * once (MailHog's shapes read each message whole). A request takes its
 * share before building its answer and gives it back when the answer is
 * written; past the budget requests wait their turn, first come first
 * served, and past MAX_WAITING the next is told to come back (503). A share
 * larger than the whole budget waits until it is alone.
 */
export class ResponseBudget {
  private used = 0;
  private readonly queue: { readonly bytes: number; readonly go: (release: () => void) => void }[] = [];

  constructor(
    readonly limit: number,
    private readonly maxWaiting = 256,
  ) {}

  /** Waits for `bytes` (capped at the limit); resolves with what gives them back, or null when too many wait. */
  take(bytes: number): Promise<(() => void) | null> {
    const share = Math.min(bytes, this.limit);
    if (this.queue.length === 0 && this.used + share <= this.limit) return Promise.resolve(this.hold(share));
    if (this.queue.length >= this.maxWaiting) return Promise.resolve(null);
    return new Promise((go) => this.queue.push({ bytes: share, go }));
  }

  private hold(share: number): () => void {
    this.used += share;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= share;
      while (this.queue.length > 0 && this.used + this.queue[0]!.bytes <= this.limit) {
        const next = this.queue.shift()!;
        next.go(this.hold(next.bytes));
      }
    };
  }
}
