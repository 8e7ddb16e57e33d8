/**
 * What the lint (src/lint/lint.ts) reports about a message: findings with a
 * stable code, a severity and one line of explanation citing the RFC.
 */
import type { Finding } from '../finding.js';
import { terminalSafe } from '../printers/terminal-safe.js';

export { LINT_CODES, type Finding, type LintCode, type Severity } from '../finding.js';

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
