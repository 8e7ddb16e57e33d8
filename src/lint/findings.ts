/**
 * What the lint (src/lint/lint.ts) reports about a message: findings with a
 * stable code, a severity and one line of explanation citing the RFC.
 */
import { terminalSafe } from '../printers/terminal-safe.js';

/**
 * `error`: the message breaks a MUST of RFC 5321/5322/2045 and a strict
 * receiver may refuse or mangle it (`--strict` rejects it); `warning`: a
 * SHOULD, or something receivers guess at; `note`: worth knowing, not wrong.
 */
export type Severity = 'error' | 'warning' | 'note';

/** Every code a finding can have, one per rule. */
export const LINT_CODES = [
  'bare-line-ending',
  'line-too-long',
  '8bit-without-8bitmime',
  'utf8-address-without-smtputf8',
  'missing-from',
  'missing-date',
  'missing-message-id',
  'bad-from',
  'unencoded-header',
  'undeclared-charset',
  'envelope-from-mismatch',
] as const;

export type LintCode = (typeof LINT_CODES)[number];

/** One thing the sender did wrong (or did oddly). */
export interface Finding {
  readonly code: LintCode;
  readonly severity: Severity;
  /** One line, free of control characters, e.g. `2 bare LF line endings: ... (RFC 5321 2.3.8)`. */
  readonly message: string;
}

/** The first error-severity finding, the one `--strict` names in its 550. */
export function firstError(findings: readonly Finding[]): Finding | undefined {
  return findings.find((f) => f.severity === 'error');
}

/** Longest piece of message text quoted in a finding. */
const QUOTE_MAX = 60;

/**
 * Message text as a finding quotes it: terminal-safe, tab shown as `\x09`
 * too (findings go to terminals and into reply lines), cut to QUOTE_MAX
 * characters. Only the start is escaped: a 10 MiB header costs nothing more.
 */
export function quote(text: string): string {
  const safe = terminalSafe(text.slice(0, QUOTE_MAX)).replaceAll('\t', '\\x09');
  return `'${text.length > QUOTE_MAX || safe.length > QUOTE_MAX ? `${safe.slice(0, QUOTE_MAX)}...` : safe}'`;
}
