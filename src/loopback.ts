/**
 * What counts as loopback: `localhost` and the loopback addresses. Used for
 * the defaults that depend on who can reach the sink (AUTH in the clear,
 * relaying, the warning at start).
 */
import net from 'node:net';

/** True for an IP address only this machine can reach: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return address === '::1' || address === '0:0:0:0:0:0:0:1';
}

/**
 * True for `localhost` and loopback IP addresses. Any other name is not
 * taken on trust (`127.0.0.1.nip.io` resolves anywhere): where it matters,
 * the address a name was bound to is checked (isLoopbackAddress).
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

/** Loopback: who may relay without `--relay-allow`, whose PROXY header counts without `--proxy-protocol-from`. */
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

/** Whether an address is in one of the CIDRs (an IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d). */
export function blockListOf(cidrs: readonly string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const c = parseCidr(cidr);
    if (!c) throw new Error(`bad CIDR ${cidr}`);
    list.addSubnet(c.address, c.prefix, c.family);
  }
  return (address) => {
    const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    return net.isIP(ip) !== 0 && list.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
  };
}

/**
 * Addresses a request the sink makes on a stranger's behalf must not reach
 * unless the operator allows it (a webhook, a link check): this machine,
 * private and shared networks, link-local (the cloud metadata service,
 * 169.254.169.254, is there), multicast and reserved ranges.
 */
export const INTERNAL_CIDRS = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b::/96',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
] as const;

/** Whether an IP address is internal (INTERNAL_CIDRS); an IPv4-mapped IPv6 address is judged as IPv4. */
export const isInternalAddress = blockListOf(INTERNAL_CIDRS);
