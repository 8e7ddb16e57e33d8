/**
 * The lint findings as the human formats show them: a short block after the
 * message's framing, one line per finding, nothing when there are none.
 * Finding texts are terminal-safe already (src/lint/findings.ts quotes
 * message text); they pass through terminalSafe again all the same.
 */
import type { Finding } from '../lint/findings.js';
import { terminalSafe } from './terminal-safe.js';

/** `lint: 2 findings` and a line per finding, or '' for none (or no lint). */
export function lintBlock(findings: readonly Finding[] | undefined): string {
  if (!findings || findings.length === 0) return '';
  const lines = [`lint: ${findings.length === 1 ? '1 finding' : `${findings.length} findings`}`];
  for (const f of findings) lines.push(`  ${f.severity.padEnd(7)} ${f.code}: ${terminalSafe(f.message)}`);
  return lines.join('\n') + '\n';
}
