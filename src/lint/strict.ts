/**
 * `--strict`: a message with an error-severity finding is refused with 550
 * naming the first one, before anything is written: a refused message is in
 * no output, not in the Maildir, and not counted by --exit-after or the
 * expectations. stderr gets one line (the server logs a ReplyError).
 */
import { R } from '../channel/reply.js';
import { StrictRejection } from '../errors.js';
import { firstError, type Finding } from './findings.js';

/** The 550 for `finding`: printable ASCII only, since it goes on the wire. */
export function strictReply(finding: Finding) {
  const text = `${finding.code}: ${finding.message}`.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
  return R.R550_STRICT(text);
}

/** Throws StrictRejection when `findings` hold an error. */
export function enforceStrict(findings: readonly Finding[]): void {
  const error = firstError(findings);
  if (error) throw new StrictRejection(strictReply(error), error);
}
