/**
 * The values flags take, parsed once for every flag that takes one: whole
 * numbers, seconds, paths, `host:port`. Each throws a UsageError (exit 2)
 * naming the flag. A leaf module: config.ts and each area's settings
 * (extensions/, relay/, rules/, wait/) use it, and it uses none of them.
 */
import net from 'node:net';
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
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new UsageError(`${flag} needs a number of seconds, not '${value}'`);
  return Math.round(Number(value) * 1000);
}

/** Seconds above 0 (decimals allowed) from a flag, as milliseconds, or `fallbackMs` when the flag is absent. */
export function positiveSeconds(value: string | undefined, flag: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) === 0)
    throw new UsageError(`${flag} needs a number of seconds above 0, not '${value}'`);
  return Math.round(Number(value) * 1000);
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
