/**
 * How expectations change the end of a run: at exit (after --exit-after,
 * --timeout or a signal) the report goes to stderr and decides the code:
 * 0 when every expectation held, 4 when one failed. One exception: a
 * --timeout before --exit-after's N messages arrived stays 3, the more
 * precise diagnosis; the report is printed all the same. A --timeout
 * without --exit-after is then the normal end of the run, not a failure.
 */
import { EXIT, type RunEnd } from '../exit-codes.js';
import { formatReport, type ExpectationTracker } from './tracker.js';

/** Judges the run: writes the report to `log` and returns the exit code. */
export function judgeRun(
  end: RunEnd,
  tracker: ExpectationTracker,
  exitAfter: number | null,
  log: NodeJS.WritableStream,
): number {
  const report = tracker.report();
  log.write(formatReport(report));
  if (end.code === EXIT.TIMEOUT && exitAfter !== null) return EXIT.TIMEOUT;
  return report.ok ? EXIT.OK : EXIT.EXPECTATION_FAILED;
}
