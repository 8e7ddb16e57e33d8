/**
 * `--strict`'s rule: a message with an error-severity finding is refused
 * with 550 naming the first one (src/handlers/strict.ts applies it).
 */
import { printable, R } from '../channel/reply.js';
import { StrictRejection } from '../errors.js';
import { firstError, type Finding } from './findings.js';

/** The 550 for `finding`: printable ASCII only, since it goes on the wire. */
export function strictReply(finding: Finding) {
  return R.R550_STRICT(printable(`${finding.code}: ${finding.message}`));
}

/** Throws StrictRejection when `findings` hold an error. */
export function enforceStrict(findings: readonly Finding[]): void {
  const error = firstError(findings);
  if (error) throw new StrictRejection(strictReply(error), error);
}
