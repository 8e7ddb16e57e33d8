/**
 * The sink's exit codes, documented in the README: what a CI script reads
 * of a run. Kept below everything that decides one (run control, the
 * expectations, the commands).
 */
/** Exit codes, documented in the README. */
export const EXIT = {
  OK: 0,
  START_FAILED: 1,
  USAGE: 2,
  TIMEOUT: 3,
  /** An `--expect` or `--expect-count` did not hold at exit (src/expect/). */
  EXPECTATION_FAILED: 4,
} as const;

/** What ends a run: the exit code and the line to say on stderr, if any. */
export interface RunEnd {
  readonly code: number;
  readonly reason: string | null;
}
