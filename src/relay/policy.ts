/**
 * Who may relay, decided at RCPT so that smtpd-ts is never an open relay.
 * A pure, synchronous predicate: the server hands it to each connection's
 * channel (as `ChannelConfig.acceptRecipient`, with the peer bound), and
 * the channel asks it for every recipient without doing any I/O itself.
 *
 * - A recipient that matches a `--deliver` pattern is local delivery, not
 *   relaying: always accepted (MailmanProxy's lists took mail from anyone).
 * - Otherwise, when there is an upstream, the peer must be in `--relay-allow`
 *   (default: loopback only) and, with `--relay-domains`, the recipient's
 *   domain listed; if not, 550 (Postfix answers 554 5.7.1 "Relay access
 *   denied" in the same place).
 * - Without an upstream nothing is relayed, so every recipient is accepted
 *   (and printed), as DebuggingServer does.
 */
import net from 'node:net';
import { R, type Reply } from '../channel/reply.js';
import type { Endpoint } from '../message.js';
import type { DeliverRoute } from './routes.js';

/** The peer may not relay (not in `--relay-allow`); the reply lives in the R table. */
export const R550_RELAY_DENIED = R.R550_RELAY_DENIED;
/** The recipient's domain is not in `--relay-domains`; the reply lives in the R table. */
export const R550_RELAY_DOMAIN = R.R550_RELAY_DOMAIN;

/** Loopback networks: who may relay when `--relay-allow` is not given. */
export const LOOPBACK_CIDRS = ['127.0.0.0/8', '::1/128'] as const;

/** Parses `ADDRESS/BITS` (or a bare address: one host); undefined when malformed. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.lastIndexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const bits = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { address, prefix: Number(bits), family };
}

export interface PolicySettings {
  /** True when recipients that match no route are relayed upstream. */
  readonly relaying: boolean;
  /** CIDRs whose peers may relay; empty: loopback. */
  readonly allow: readonly string[];
  /** Domains relayed to (`.example.com` also matches its subdomains); empty: any. */
  readonly domains: readonly string[];
  readonly routes: readonly DeliverRoute[];
}

/** The domain of an address (after the last `@`), lower-cased; '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0
    ? ''
    : address
        .slice(at + 1)
        .replace(/>$/, '')
        .toLowerCase();
}

function domainAllowed(domain: string, domains: readonly string[]): boolean {
  return domains.some((d) => (d.startsWith('.') ? domain.endsWith(d) : domain === d));
}

/** The RCPT policy: undefined to accept the recipient, or the reply that refuses it. */
export function recipientPolicy(settings: PolicySettings): (address: string, peer: Endpoint) => Reply | undefined {
  const allowed = new net.BlockList();
  for (const cidr of settings.allow.length > 0 ? settings.allow : LOOPBACK_CIDRS) {
    const c = parseCidr(cidr);
    if (!c) throw new Error(`bad CIDR ${cidr}`);
    allowed.addSubnet(c.address, c.prefix, c.family);
  }
  const domains = settings.domains.map((d) => d.toLowerCase());
  return (address, peer) => {
    if (!settings.relaying || settings.routes.some((r) => r.matches(address))) return undefined;
    // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    const ip = peer.address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    if (!allowed.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6')) return R550_RELAY_DENIED;
    if (domains.length > 0 && !domainAllowed(domainOf(address), domains)) return R550_RELAY_DOMAIN;
    return undefined;
  };
}
