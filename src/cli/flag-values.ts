/**
 * The values flags take, parsed once for every flag that takes one: whole
 * numbers, seconds, paths, `host:port`. Each throws a UsageError (exit 2)
 * naming the flag. A leaf module: config.ts and each area's settings
 * (extensions/, relay/, rules/, wait/) use it, and it uses none of them.
 */
import net from 'node:net';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A whole number >= `min` from a flag, or `fallback` when the flag is absent. */
export function wholeNumber(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} needs a whole number${min > 0 ? ` from ${min}` : ''}, not '${value}'`);
  }
  return Number(value);
}

/** Seconds (decimals allowed) from a flag, as milliseconds. */
export function seconds(value: string | undefined, flag: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  // Seconds, or with a unit as every duration flag takes it (`5s`, `2m`, `1h`).
  const ms = parseDuration(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} needs a number of seconds (or 90s, 5m, 1h), not '${value}'`);
  return Math.round(ms);
}

/** Seconds above 0 (decimals allowed) from a flag, as milliseconds, or `fallbackMs` when the flag is absent. */
export function positiveSeconds(value: string | undefined, flag: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDuration(value);
  if (!(ms > 0)) throw new UsageError(`${flag} needs a number of seconds above 0 (or 90s, 5m, 1h), not '${value}'`);
  return Math.round(ms);
}

/** A path from a flag, or null when the flag is absent; an empty one is a usage error. */
export function optionalPath(value: string | undefined, flag: string): string | null {
  if (value === '') throw new UsageError(`${flag} needs a path`);
  return value ?? null;
}

/** Parses `host:port`, `[v6]:port` or `v6-address:port` (the port is after the last colon). */
export function parseHostPort(spec: string, what: string): HostPort {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) throw new UsageError(`bad ${what} address '${spec}': expected host:port`);
  let host = spec.slice(0, colon);
  const portText = spec.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`bad ${what} port in '${spec}': expected a number from 0 to 65535`);
  }
  if (host.includes(':') && !net.isIPv6(host)) throw new UsageError(`bad ${what} host in '${spec}'`);
  // smtpd bound every interface for an empty host; so do we (with a warning at start).
  return { host: host === '' ? '0.0.0.0' : host, port: Number(portText) };
}

/** How many single-character edits turn `a` into `b` (Levenshtein). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** ` (did you mean X?)` for the candidate closest to `word` (a typo or two away, case aside), or ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = w.length <= 4 ? 2 : 3;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d <= bestDistance && (best === undefined || d < editDistance(w, best.toLowerCase())))
      [best, bestDistance] = [c, d];
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
};

/**
 * A size in bytes: a whole number, or one with a unit as people write them:
 * `10MB` (SI, 10,000,000), `10MiB` (10,485,760), `512k` (KiB, as nginx and
 * Docker read a bare k, M, G). Case does not matter.
 */
export function parseSize(value: string, flag: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(value);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || (unit === 1 && m![1]!.includes('.'))) {
    throw new UsageError(
      `${flag} needs a size in bytes (0 for no limit), or with a unit: 10MB, 10MiB, 512k; not '${value}'`,
    );
  }
  return bytes;
}

/** `host:port`, with an IPv6 host in brackets (`[::1]:25`): how every line the CLI prints names an address. */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
