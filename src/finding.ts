/**
 * What a lint finding is: its codes, severities and shape, which the lint
 * (src/lint/) reports and `--strict`'s refusal (errors.ts) carries. Kept
 * below both, so that the errors of every layer can name it.
 */

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
