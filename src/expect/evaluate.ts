/**
 * Evaluates predicates against a message's JSON record (toJsonRecord in
 * src/printers/json.ts): the same fields `-f json` prints.
 *
 * A path walks into objects and across arrays (`from.address` is every From
 * address). `=` and `~` hold when any value matches, `!=` and `!~` when none
 * does, so `rcptTo!=x@example.test` means x is not a recipient. `~` is
 * a case-insensitive substring, or a `/regex/flags`. `<`..`>=` compare a
 * number, or the length of a list (`attachments>=1`). A null is the empty
 * string, so `subject=` holds for a message without a subject.
 */
import type { JsonRecord } from '../printers/json.js';
import type { Predicate } from './parse.js';

/** The values at `path`: arrays on the way are crossed, the last one is kept whole. */
function valuesAt(record: JsonRecord, path: readonly string[]): unknown[] {
  let values: unknown[] = [record];
  path.forEach((name) => {
    const next: unknown[] = [];
    for (const v of values) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item !== null && typeof item === 'object' && Object.hasOwn(item, name))
          next.push((item as Record<string, unknown>)[name]);
      }
    }
    values = next;
  });
  return values;
}

function asText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function compare(op: Predicate['op'], a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return false;
  }
}

/** Whether `predicate` holds for `record`. */
export function holds(predicate: Predicate, record: JsonRecord): boolean {
  const values = valuesAt(record, predicate.path);
  switch (predicate.op) {
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const target = predicate.number ?? NaN;
      return values.some((v) => {
        const n = Array.isArray(v) ? v.length : typeof v === 'number' ? v : NaN;
        return compare(predicate.op, n, target);
      });
    }
    case '=':
    case '!=':
    case '~':
    case '!~': {
      const leaves = values.flatMap((v) => (Array.isArray(v) ? v : [v]));
      if (leaves.length === 0 && predicate.path.length === 1) leaves.push(null);
      const needle = predicate.value.toLowerCase();
      const match =
        predicate.op === '=' || predicate.op === '!='
          ? (v: unknown) => asText(v) === predicate.value
          : (v: unknown) =>
              predicate.regex ? predicate.regex.test(asText(v)) : asText(v).toLowerCase().includes(needle);
      const any = leaves.some(match);
      return predicate.op === '=' || predicate.op === '~' ? any : !any;
    }
    default: {
      const never: never = predicate.op;
      return never;
    }
  }
}

/** How a field looks in a message summary: a string quoted, a list by its items or length. */
export function showValue(predicate: Predicate, record: JsonRecord): string {
  const values = valuesAt(record, predicate.path);
  const numeric = predicate.op === '<' || predicate.op === '<=' || predicate.op === '>' || predicate.op === '>=';
  const shown = values.map((v) =>
    Array.isArray(v) && (numeric || v.some((i) => typeof i === 'object')) ? `${v.length} item(s)` : JSON.stringify(v),
  );
  const text = shown.length === 1 ? shown[0]! : `[${shown.join(', ')}]`;
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
