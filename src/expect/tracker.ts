/**
 * Follows the expectations while messages arrive and judges them at exit.
 * Memory stays bounded however long the run: per expectation only whether
 * it holds so far and a few message summaries (the nearest misses, or the
 * first offenders), never the messages themselves.
 */
import { terminalSafe } from '../printers/terminal-safe.js';
import type { JsonRecord } from '../printers/json.js';
import { holds, showValue } from './evaluate.js';
import type { CountRange, Expectation } from './parse.js';

/** Messages shown for a failed expectation. */
export const NEAREST = 3;

/** One line about a message: who sent it to whom, and the fields an expectation reads. */
export interface MessageSummary {
  readonly id: string;
  readonly text: string;
  /** How many of the expectation's predicates it satisfies. */
  readonly score: number;
}

/** The verdict on one expectation. */
export interface ExpectationResult {
  /** `--expect-count 2..5` or `--expect 'subject=Welcome'`. */
  readonly label: string;
  readonly ok: boolean;
  /** Why, in a few words: `3 messages`, `no message matched`... */
  readonly detail: string;
  /** The nearest misses (some), the offenders (every, none); empty when ok. */
  readonly messages: readonly MessageSummary[];
}

export interface ExpectReport {
  readonly accepted: number;
  readonly results: readonly ExpectationResult[];
  readonly ok: boolean;
}

interface State {
  readonly expectation: Expectation;
  /** Messages that satisfied every predicate. */
  matched: number;
  /** some: the best misses so far; every/none: the first offenders. */
  shown: MessageSummary[];
}

function summarize(record: JsonRecord, expectation: Expectation, score: number): MessageSummary {
  const fields = expectation.predicates.map((p) => `${p.path.join('.')}=${showValue(p, record)}`);
  // The subject helps to tell messages apart, unless a field shown is the subject already.
  const read = new Set(expectation.predicates.map((p) => p.path.join('.')));
  const subject = read.has('subject')
    ? ''
    : record.subject === null
      ? ', no subject'
      : `, subject ${JSON.stringify(record.subject)}`;
  const text = `${record.id} from <${record.mailFrom}> to ${record.rcptTo.map((r) => `<${r}>`).join(', ')}${subject}: ${fields.join(', ')}`;
  return { id: record.id, text: terminalSafe(text), score };
}

export class ExpectationTracker {
  private accepted = 0;
  private readonly states: State[];

  constructor(
    private readonly count: CountRange | null,
    expectations: readonly Expectation[],
  ) {
    this.states = expectations.map((expectation) => ({ expectation, matched: 0, shown: [] }));
  }

  /** Takes one accepted message into account. */
  observe(record: JsonRecord): void {
    this.accepted++;
    for (const state of this.states) {
      const { expectation } = state;
      const score = expectation.predicates.filter((p) => holds(p, record)).length;
      const all = score === expectation.predicates.length;
      if (all) state.matched++;
      switch (expectation.quantifier) {
        case 'some':
          // Keep the NEAREST best misses; among equals, the earliest.
          if (!all && state.matched === 0) {
            state.shown.push(summarize(record, expectation, score));
            state.shown.sort((a, b) => b.score - a.score);
            state.shown.length = Math.min(state.shown.length, NEAREST);
          }
          break;
        case 'every':
          if (!all && state.shown.length < NEAREST) state.shown.push(summarize(record, expectation, score));
          break;
        case 'none':
          if (all && state.shown.length < NEAREST) state.shown.push(summarize(record, expectation, score));
          break;
        default: {
          const never: never = expectation.quantifier;
          throw new Error(`unknown quantifier ${String(never)}`);
        }
      }
    }
  }

  /** The verdict on every expectation, given the messages so far. */
  report(): ExpectReport {
    const results: ExpectationResult[] = [];
    const n = this.accepted;
    const messages = (k: number) => `${k} message${k === 1 ? '' : 's'}`;
    if (this.count) {
      const { min, max, source } = this.count;
      results.push({
        label: `--expect-count ${source}`,
        ok: n >= min && n <= max,
        detail: `${messages(n)} accepted`,
        messages: [],
      });
    }
    for (const { expectation, matched, shown } of this.states) {
      const label = `--expect '${terminalSafe(expectation.source)}'`;
      switch (expectation.quantifier) {
        case 'some':
          results.push(
            matched > 0
              ? { label, ok: true, detail: `${messages(matched)} matched`, messages: [] }
              : {
                  label,
                  ok: false,
                  detail: n === 0 ? 'no message arrived' : `none of ${messages(n)} matched; nearest:`,
                  messages: shown,
                },
          );
          break;
        case 'every':
          results.push(
            matched === n
              ? { label, ok: true, detail: `all ${messages(n)} matched`, messages: [] }
              : { label, ok: false, detail: `${n - matched} of ${messages(n)} did not match, e.g.:`, messages: shown },
          );
          break;
        case 'none':
          results.push(
            matched === 0
              ? { label, ok: true, detail: `none of ${messages(n)} matched`, messages: [] }
              : { label, ok: false, detail: `${messages(matched)} matched, e.g.:`, messages: shown },
          );
          break;
        default: {
          const never: never = expectation.quantifier;
          throw new Error(`unknown quantifier ${String(never)}`);
        }
      }
    }
    return { accepted: n, results, ok: results.every((r) => r.ok) };
  }
}

/** The report as stderr shows it: a headline, then a line per expectation and its messages. */
export function formatReport(report: ExpectReport): string {
  const failed = report.results.filter((r) => !r.ok).length;
  const head = failed === 0 ? `all ${report.results.length} held` : `${failed} of ${report.results.length} failed`;
  const lines = [
    `smtpd-ts: expectations: ${head} (${report.accepted} message${report.accepted === 1 ? '' : 's'} accepted)`,
  ];
  for (const r of report.results) {
    lines.push(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.label}: ${r.detail}`);
    for (const m of r.messages) lines.push(`           ${m.text}`);
  }
  return lines.join('\n') + '\n';
}
