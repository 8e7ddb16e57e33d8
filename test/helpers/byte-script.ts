/**
 * Runs byte scripts through the sans-I/O channel, h11's `tr()` style: the
 * same input is fed whole, one byte at a time, and at seeded random splits,
 * and every run must give the same wire output and messages.
 */
import assert from 'node:assert/strict';
import { SMTPChannel } from '../../src/channel/channel.js';
import { formatReply, type Reply } from '../../src/channel/reply.js';
import type { ChannelOptions } from '../../src/channel/config.js';
import type { ChannelMessage, TlsInfo } from '../../src/channel/actions.js';
import { mulberry32 } from '../../src/rules/engine.js';

/**
 * In a script, where the TLS handshake completes (after STARTTLS): the
 * helper calls `tlsEstablished(TEST_TLS)` there. Bytes before it are split
 * among themselves, bytes after it too, never across it.
 */
export const HANDSHAKE = Symbol('TLS handshake');
export const TEST_TLS: TlsInfo = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };

/** A script: bytes, or segments of bytes with handshakes between them. */
export type ScriptInput = string | Buffer | readonly (string | Buffer | typeof HANDSHAKE)[];

/**
 * smtpd's channel: the scripts that check smtpd's replies run with the
 * extensions smtpd lacked turned off; a test turns on what it tests.
 */
export const CONFIG: ChannelOptions = {
  hostname: 'sink.test',
  banner: 'smtpd-ts test',
  dataSizeLimit: 33_554_432,
  smtputf8: false,
  chunking: false,
  auth: null,
  maxRecipients: 0,
};

export interface Outcome {
  /** Every reply as one string per reply line, greeting included. */
  readonly lines: string[];
  readonly messages: ChannelMessage[];
  readonly closed: boolean;
  /** How many `starttls` actions the channel asked for. */
  readonly starttls: number;
  /** Scripted rules' actions, in order: `delay <ms>`, `drop`, `rule <source>` (empty without rules). */
  readonly faults: string[];
  /** The refusals the channel reported, as `COMMAND code`, in order. */
  readonly refused: string[];
}

/**
 * A channel configuration, or a function making a fresh one for each run:
 * a stateful hook (a rule engine counts events) must start afresh each time.
 */
export type ScriptConfig = Partial<ChannelOptions> | (() => Partial<ChannelOptions>);

/** Feeds `chunks` in order; settles each message with `verdict(message)` (default 250). */
export function feed(
  chunks: readonly (Buffer | typeof HANDSHAKE)[],
  config: ScriptConfig = {},
  verdict: (m: ChannelMessage) => Reply | undefined = () => undefined,
): Outcome {
  const ch = new SMTPChannel({ ...CONFIG, ...(typeof config === 'function' ? config() : config) });
  const faults: string[] = [];
  const refused: string[] = [];
  let wire = '';
  const messages: ChannelMessage[] = [];
  let closed = false;
  let starttls = 0;
  const apply = (actions: ReturnType<SMTPChannel['receive']>): void => {
    for (const a of actions) {
      if (a.kind === 'reply') wire += formatReply(a.reply);
      else if (a.kind === 'close') closed = true;
      else if (a.kind === 'starttls') starttls++;
      else if (a.kind === 'delay') faults.push(`delay ${a.ms}`);
      else if (a.kind === 'rule') faults.push(`rule ${a.rule}`);
      else if (a.kind === 'refused') refused.push(`${a.command} ${a.reply.code}`);
      else if (a.kind === 'drop') {
        faults.push('drop');
        closed = true;
      } else if (a.kind === 'message') {
        messages.push(a.message);
        apply(ch.settle(verdict(a.message)));
      }
    }
  };
  apply(ch.greet());
  for (const c of chunks) apply(c === HANDSHAKE ? ch.tlsEstablished(TEST_TLS) : ch.receive(c));
  return { lines: wire.split('\r\n').slice(0, -1), messages, closed, starttls, faults, refused };
}

/** A small seeded PRNG (mulberry32, shared with the rule engine), so random splits are replayable. */
export const prng = mulberry32;

/** Splits `input` at random places. */
export function randomSplit(input: Buffer, random: () => number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < input.length) {
    const n = 1 + Math.floor(random() * Math.min(input.length - i, 1 + Math.floor(random() * 64)));
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

function canonical(o: Outcome): unknown {
  return {
    lines: o.lines,
    closed: o.closed,
    starttls: o.starttls,
    faults: o.faults,
    refused: o.refused,
    messages: o.messages.map((m) => ({ ...m, data: m.data.toString('latin1') })),
  };
}

/**
 * Runs `input` whole, byte by byte and at 20 random splits; asserts every run
 * agrees and returns the outcome.
 */
export function script(
  input: ScriptInput,
  config: ScriptConfig = {},
  verdict?: (m: ChannelMessage) => Reply | undefined,
): Outcome {
  const parts: readonly (string | Buffer | typeof HANDSHAKE)[] =
    typeof input === 'string' || Buffer.isBuffer(input) ? [input] : input;
  const segments = parts.map((s): Buffer | typeof HANDSHAKE =>
    s === HANDSHAKE ? s : typeof s === 'string' ? Buffer.from(s, 'utf8') : s,
  );
  const split = (how: (b: Buffer) => Buffer[]): (Buffer | typeof HANDSHAKE)[] =>
    segments.flatMap((s): (Buffer | typeof HANDSHAKE)[] => (s === HANDSHAKE ? [s] : how(s)));
  const whole = feed(
    split((b) => [b]),
    config,
    verdict,
  );
  const expected = canonical(whole);
  const bytewise = feed(
    split((b) => [...b].map((x) => Buffer.from([x]))),
    config,
    verdict,
  );
  assert.deepEqual(canonical(bytewise), expected, 'byte-at-a-time run differs from whole run');
  const length = segments.reduce((n, s) => n + (s === HANDSHAKE ? 0 : s.length), 0);
  const random = prng(length * 7919 + 17);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(
      canonical(
        feed(
          split((b) => randomSplit(b, random)),
          config,
          verdict,
        ),
      ),
      expected,
      `random split #${i} differs`,
    );
  }
  return whole;
}

/** The reply codes of an outcome, greeting excluded, one per reply. */
export function codes(o: Outcome): number[] {
  return o.lines
    .filter((l) => l[3] !== '-')
    .slice(1)
    .map((l) => Number(l.slice(0, 3)));
}

/** CRLF-joins lines and ends with CRLF. */
export function crlf(...lines: string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}
