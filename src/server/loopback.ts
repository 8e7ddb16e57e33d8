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
