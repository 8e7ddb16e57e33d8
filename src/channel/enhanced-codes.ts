/**
 * ENHANCEDSTATUSCODES (RFC 2034, codes from RFC 3463): with the extension
 * on, each reply's text starts with its enhanced code, on every line. The
 * codes themselves live next to the replies, in the R table (reply.ts).
 */
import type { Reply } from './reply.js';

/** An enhanced status code at the start of a text, as a handler may already have written it. */
const ENHANCED_PREFIX = /^[245]\.[0-9]{1,3}\.[0-9]{1,3}(?: |$)/;

/**
 * The reply as sent with ENHANCEDSTATUSCODES. A reply with no code of its
 * own gets its class's generic one (`5.0.0`, RFC 3463 section 3.1); replies
 * marked `''` (334 challenges, 354, the EHLO capability list: RFC 2034
 * section 4 exempts the greeting and the HELO/EHLO reply) and replies whose
 * text already starts with a code are left as they are.
 */
export function withEnhancedCode(r: Reply): Reply {
  const code = r.enhanced ?? `${Math.floor(r.code / 100)}.0.0`;
  if (code === '' || r.code < 200 || r.code > 599 || ENHANCED_PREFIX.test(r.lines[0] ?? '')) return r;
  return { code: r.code, lines: r.lines.map((l) => (l === '' ? code : `${code} ${l}`)), enhanced: '' };
}
