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
import { R, type Reply } from '../channel/reply.js';
import type { Endpoint } from '../message.js';
import type { DeliverRoute } from './routes.js';
import { blockListOf, LOOPBACK_CIDRS } from '../loopback.js';

/** The peer may not relay (not in `--relay-allow`); the reply lives in the R table. */
export const R550_RELAY_DENIED = R.R550_RELAY_DENIED;
/** The recipient's domain is not in `--relay-domains`; the reply lives in the R table. */
export const R550_RELAY_DOMAIN = R.R550_RELAY_DOMAIN;

export { LOOPBACK_CIDRS, parseCidr } from '../loopback.js';

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
  const allowed = blockListOf(settings.allow.length > 0 ? settings.allow : LOOPBACK_CIDRS);
  const domains = settings.domains.map((d) => d.toLowerCase());
  return (address, peer) => {
    if (!settings.relaying || settings.routes.some((r) => r.matches(address))) return undefined;
    if (!allowed(peer.address)) return R550_RELAY_DENIED;
    if (domains.length > 0 && !domainAllowed(domainOf(address), domains)) return R550_RELAY_DOMAIN;
    return undefined;
  };
}
