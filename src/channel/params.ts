/**
 * ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param), parsed the
 * way smtpd does: the text after the address is upper-cased and split on
 * white space; each word is `KEYWORD` or `KEYWORD=value`.
 */
import { pySplit } from './py-text.js';

/** The upper-cased words after the address: smtpd's `mail_options` / `rcpt_options`. */
export function splitOptions(rest: string): string[] {
  return pySplit(rest.toUpperCase());
}

/** Python's str.isalnum(): letters and numbers of any script, and not empty. */
const ALNUM = /^[\p{L}\p{N}]+$/u;

/**
 * smtpd's `_getparams`: a map from keyword to value (`true` for a bare
 * keyword), or undefined when a word is not `alnum[=value]` (501). A later
 * duplicate wins, as in smtpd's dict.
 */
export function parseParams(options: readonly string[]): Map<string, string | true> | undefined {
  const result = new Map<string, string | true>();
  for (const option of options) {
    const eq = option.indexOf('=');
    const keyword = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? true : option.slice(eq + 1);
    if (!ALNUM.test(keyword) || value === '') return undefined;
    result.set(keyword, value);
  }
  return result;
}
