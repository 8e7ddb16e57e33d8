/** Durations as flags, mailbox rules and the API write them: `500ms`, `90s`, `30m`, `12h`, `7d`, or seconds. */

const UNIT_MS = { '': 1000, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The duration in milliseconds, or NaN when `value` is not one (callers refuse 0 and NaN alike). */
export function parseDuration(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|[smhd])?$/.exec(value);
  return m ? Number(m[1]) * UNIT_MS[(m[2] ?? '') as keyof typeof UNIT_MS] : NaN;
}
