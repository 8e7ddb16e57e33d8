/**
 * The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's
 * proxy-protocol.txt specifies it: a load balancer sends one header before
 * the client's bytes, naming the real client. A sans-I/O parser: it looks at
 * the bytes received so far and says whether a header is complete, still
 * incomplete, or invalid.
 */
import net from 'node:net';
import type { Endpoint } from '../message.js';

/** v1: a line of at most 107 bytes, CRLF included (proxy-protocol.txt 2.1). */
const PROXY_V1_MAX = 107;
/** v2: the 12-byte signature (proxy-protocol.txt 2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');

export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * A whole header of `length` bytes. `source`/`destination` are null for a
   * LOCAL (health check) or UNKNOWN header: the connection's own addresses apply.
   */
  | {
      readonly kind: 'header';
      readonly length: number;
      readonly source: Endpoint | null;
      readonly destination: Endpoint | null;
    };

const INCOMPLETE: ProxyHeader = { kind: 'incomplete' };
const invalid = (reason: string): ProxyHeader => ({ kind: 'invalid', reason });

/** Parses the start of a connection's bytes. */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (n > 0 && buf.subarray(0, n).equals(PROXY_V2_SIGNATURE.subarray(0, n))) {
    return n < PROXY_V2_SIGNATURE.length ? INCOMPLETE : parseV2(buf);
  }
  const m = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, m).equals(V1_PREFIX.subarray(0, m))) return invalid('no PROXY protocol header');
  return parseV1(buf);
}

function port(text: string): number | undefined {
  return /^[0-9]{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function parseV1(buf: Buffer): ProxyHeader {
  const lf = buf.indexOf(0x0a);
  if (lf < 0) return buf.length >= PROXY_V1_MAX ? invalid('PROXY v1 line too long') : INCOMPLETE;
  if (lf + 1 > PROXY_V1_MAX || buf[lf - 1] !== 0x0d) return invalid('malformed PROXY v1 line');
  const words = buf
    .subarray(0, lf - 1)
    .toString('latin1')
    .split(' ');
  const length = lf + 1;
  if (words[1] === 'UNKNOWN') return { kind: 'header', length, source: null, destination: null };
  if (words.length !== 6) return invalid('malformed PROXY v1 line');
  const [, family, src, dst, sport, dport] = words as [string, string, string, string, string, string];
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  const sp = port(sport);
  const dp = port(dport);
  if (version === 0 || net.isIP(src) !== version || net.isIP(dst) !== version || sp === undefined || dp === undefined) {
    return invalid('malformed PROXY v1 line');
  }
  return { kind: 'header', length, source: { address: src, port: sp }, destination: { address: dst, port: dp } };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Canonical form (RFC 5952) via the URL parser, which compresses zero runs.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < 16) return INCOMPLETE;
  const versionCommand = buf[12]!;
  const family = buf[13]!;
  const length = 16 + buf.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return invalid('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('unknown PROXY v2 command');
  if (buf.length < length) return INCOMPLETE;
  // LOCAL (a health check) and families other than TCP/UDP over IPv4/IPv6 keep the real addresses.
  if (command === 0) return { kind: 'header', length, source: null, destination: null };
  const body = buf.subarray(16, length);
  switch (family >> 4) {
    case 1:
      if (body.length < 12) return invalid('short PROXY v2 IPv4 addresses');
      return {
        kind: 'header',
        length,
        source: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) },
        destination: { address: [...body.subarray(4, 8)].join('.'), port: body.readUInt16BE(10) },
      };
    case 2:
      if (body.length < 36) return invalid('short PROXY v2 IPv6 addresses');
      return {
        kind: 'header',
        length,
        source: { address: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32) },
        destination: { address: ipv6(body.subarray(16, 32)), port: body.readUInt16BE(34) },
      };
    default:
      return { kind: 'header', length, source: null, destination: null };
  }
}

/** A header read whole: the addresses it names, or why it is invalid. */
export type ProxyOutcome = Exclude<ProxyHeader, { readonly kind: 'incomplete' }>;

/** Collects a connection's first bytes until its PROXY header is complete, or known to be invalid. */
export class ProxyPreamble {
  private bytes: Buffer = Buffer.alloc(0);

  /** Adds `chunk`: null while the header is incomplete; then the header and the bytes received after it. */
  push(chunk: Buffer): { readonly header: ProxyOutcome; readonly rest: Buffer } | null {
    const bytes = this.bytes.length === 0 ? chunk : Buffer.concat([this.bytes, chunk]);
    const header = parseProxyHeader(bytes);
    if (header.kind === 'incomplete') {
      this.bytes = bytes;
      return null;
    }
    this.bytes = Buffer.alloc(0);
    return { header, rest: header.kind === 'header' ? bytes.subarray(header.length) : Buffer.alloc(0) };
  }
}
