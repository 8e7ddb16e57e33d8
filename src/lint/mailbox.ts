/**
 * Whether a From value is a mailbox list (RFC 5322 3.4, 3.6.2), and its
 * addresses. A light check for the lint, not a full parser: comments and
 * quoted strings are blanked first, encoded words (RFC 2047) are fine in
 * display names, and each mailbox must be `addr-spec` or `name <addr-spec>`.
 * Obsolete syntax (routes, CFWS around dots) counts as not parsing.
 */

/** `local@domain`: a dot-atom or quoted local part, a dot-atom or literal domain. */
const ATEXT_CHARS = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uffff";
const ATEXT = `[${ATEXT_CHARS}]+`;
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const ADDR_SPEC = new RegExp(`^(?:${DOT_ATOM}|\\x00)@(?:${DOT_ATOM}|\\[[^\\[\\]\\\\]*\\])$`);
/**
 * A display name once quoted strings are blanked: words, dots and blanks.
 * One character class, not `(?:atext+|...)*`, whose nested repetition
 * backtracks exponentially on a long word followed by a stray character.
 */
const DISPLAY_NAME = new RegExp(`^[${ATEXT_CHARS}\\x00 \\t.]*$`);

/**
 * Replaces each quoted string with NUL and each comment with a space, so
 * commas, angle brackets and `@` inside them no longer count. Returns null
 * when a quote or a comment is not closed.
 */
function blankQuotesAndComments(value: string): string | null {
  // Most From values have neither: nothing to blank.
  if (!/["(\\]/.test(value)) return value;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
    } else if (depth > 0) continue;
    else if (c === '"') {
      quoted = true;
      out += '\x00';
    } else out += c;
  }
  return quoted || depth > 0 ? null : out;
}

/**
 * The addresses of a mailbox list, lower-cased, or null when `value` is
 * not one (empty, unbalanced, a group, no `@`, stray brackets...). The local
 * part of a quoted address comes back as NUL, enough for comparing domains.
 */
export function mailboxAddresses(value: string): string[] | null {
  const blanked = blankQuotesAndComments(value);
  if (blanked === null || blanked.trim() === '') return null;
  const out: string[] = [];
  for (const piece of blanked.split(',')) {
    const mailbox = piece.trim();
    const angle = mailbox.endsWith('>') ? /^(.*)<([^<>]*)>$/.exec(mailbox) : null;
    const address = (angle ? angle[2]! : mailbox).trim();
    if (angle && !DISPLAY_NAME.test(angle[1]!)) return null;
    if (!ADDR_SPEC.test(address)) return null;
    out.push(address.toLowerCase());
  }
  return out;
}
