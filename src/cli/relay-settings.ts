/**
 * The relay flags as data: PureProxy's upstream, `--relay*`, `--deliver*`.
 * Pure, like the rest of config.ts, which calls `toRelaySettings`: bad
 * values throw UsageError (exit 2), and so does relaying from a non-loopback
 * address without `--relay-allow`, so smtpd-ts never starts as an open relay.
 */
import { parseHostPort, positiveSeconds, type HostPort } from './flag-values.js';
import net from 'node:net';
import { isLoopbackAddress, isLoopbackHost } from '../loopback.js';
import { parseCidr } from '../relay/policy.js';
import { DEFAULT_DELIVER_TIMEOUT_S, parseDeliverRoute, type DeliverRoute } from '../relay/routes.js';
import { DEFAULT_RELAY_TIMEOUT_S } from '../relay/upstream.js';
import { UsageError } from '../errors.js';

/** The relay flags as commander gives them. */
export interface RelayCliOptions {
  relay?: string;
  relayTls?: boolean;
  relayUser?: string;
  relayPasswordFile?: string;
  relayTimeout?: string;
  relayAllow?: string[];
  relayDomains?: string[];
  deliver?: string[];
  deliverTimeout?: string;
}

export interface RelaySettings {
  /** Where recipients that match no `--deliver` route go; null: nowhere (they are printed only). */
  readonly upstream: HostPort | null;
  /** `--relay-tls`: require STARTTLS and a valid certificate upstream. */
  readonly requireTLS: boolean;
  /** `--relay-user`; the password is read from `passwordFile` at start. */
  readonly user: string | null;
  readonly passwordFile: string | null;
  /** In milliseconds. */
  readonly timeoutMs: number;
  /** `--relay-allow` CIDRs; empty: loopback peers only. */
  readonly allow: readonly string[];
  /** `--relay-domains`, lower-cased; empty: any domain. */
  readonly domains: readonly string[];
  readonly routes: readonly DeliverRoute[];
  /** In milliseconds. */
  readonly deliverTimeoutMs: number;
}

function domainList(values: readonly string[]): string[] {
  const domains = values.flatMap((v) => v.split(',')).map((d) => d.trim().toLowerCase());
  for (const d of domains) {
    if (!/^\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(d))
      throw new UsageError(`bad --relay-domains entry '${d}': expected a domain such as example.com or .example.com`);
  }
  return domains;
}

/**
 * Why relaying must not start on `bound` (the address a host name resolved
 * and was bound to), or null: an address others can reach needs
 * `--relay-allow`.
 */
export function relayRefusal(settings: RelaySettings, host: string, bound: string): string | null {
  if (settings.upstream === null || settings.allow.length > 0 || isLoopbackAddress(bound)) return null;
  return `refusing to relay while listening on ${host} (${bound}): that would be an open relay; name who may relay with --relay-allow CIDR, or listen on 127.0.0.1`;
}

/**
 * The relay settings. `relaying` is `-c PureProxy` (upstream: `--relay`, or
 * `remote`: the remote argument, parsed, else smtpd's `localhost:25`) or
 * `--relay` with any class. `remoteGiven`: the remote argument was given.
 */
export function toRelaySettings(
  options: RelayCliOptions,
  className: string,
  remote: HostPort,
  remoteGiven: boolean,
  local: HostPort,
): RelaySettings {
  const relaying = className === 'PureProxy' || options.relay !== undefined;
  if (options.relay !== undefined && remoteGiven)
    throw new UsageError('give the upstream once: --relay or the remote address, not both');
  const upstream = !relaying ? null : options.relay !== undefined ? parseHostPort(options.relay, 'relay') : remote;
  if (upstream?.port === 0) throw new UsageError('the upstream needs a port above 0');
  const allow = options.relayAllow ?? [];
  for (const cidr of allow)
    if (!parseCidr(cidr)) throw new UsageError(`bad --relay-allow '${cidr}': expected ADDRESS/BITS, e.g. 10.0.0.0/8`);
  const domains = domainList(options.relayDomains ?? []);
  if (!relaying) {
    const stray = ['relayTls', 'relayUser', 'relayPasswordFile', 'relayTimeout', 'relayAllow', 'relayDomains'] as const;
    const given = stray.find((k) => options[k] !== undefined);
    if (given)
      throw new UsageError(
        `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs an upstream: -c PureProxy or --relay HOST:PORT`,
      );
  }
  if ((options.relayUser === undefined) !== (options.relayPasswordFile === undefined)) {
    throw new UsageError('--relay-user and --relay-password-file go together');
  }
  // Never an open relay: from an address others can reach, relaying needs
  // an explicit list of who may use it. A host name is checked at start,
  // on the address it was bound to (relayRefusal), not taken on trust.
  if (
    relaying &&
    (net.isIP(local.host) !== 0 || local.host === '') &&
    !isLoopbackHost(local.host) &&
    allow.length === 0
  ) {
    throw new UsageError(
      `refusing to relay while listening on ${local.host}: that would be an open relay; name who may relay with --relay-allow CIDR, or listen on 127.0.0.1`,
    );
  }
  const routes = (options.deliver ?? []).map((spec) => {
    try {
      return parseDeliverRoute(spec);
    } catch (err) {
      throw new UsageError(`bad --deliver '${spec}': ${(err as Error).message}`);
    }
  });
  return {
    upstream,
    requireTLS: options.relayTls ?? false,
    user: options.relayUser ?? null,
    passwordFile: options.relayPasswordFile ?? null,
    timeoutMs: positiveSeconds(options.relayTimeout, '--relay-timeout', DEFAULT_RELAY_TIMEOUT_S * 1000),
    allow,
    domains,
    routes,
    deliverTimeoutMs: positiveSeconds(options.deliverTimeout, '--deliver-timeout', DEFAULT_DELIVER_TIMEOUT_S * 1000),
  };
}
