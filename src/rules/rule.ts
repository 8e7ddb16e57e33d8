/**
 * Scripted replies and faults, as data: what `--reply RULE` and
 * each line of `--rules FILE` say once parsed (parse.ts), and what the
 * engine (engine.ts) decides for one event. The channel sees only the
 * `RuleEvent` -> `RuleOutcome` hook (src/channel/config.ts).
 */
import type { Reply } from '../channel/reply.js';

/** The points a rule can name: the connection, a command verb, the end of data. */
export const RULE_VERBS = [
  'CONNECT',
  'EHLO',
  'HELO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'EOD',
  'AUTH',
  'STARTTLS',
  'RSET',
  'NOOP',
  'VRFY',
  'EXPN',
  'HELP',
  'QUIT',
  '*',
] as const;
export type RuleVerb = (typeof RULE_VERBS)[number];

/** Which of the matching events a rule fires on. */
export type Occurrence =
  /** `#N`: the Nth only. */
  | { readonly kind: 'nth'; readonly n: number }
  /** `#N+`: the Nth and every one after it. */
  | { readonly kind: 'from'; readonly n: number }
  /** `#*N`: every Nth (N, 2N, 3N...). */
  | { readonly kind: 'every'; readonly n: number };

/** What a rule does when it fires. */
export interface RuleAction {
  /** Wait this long before the reply (the normal one, or the rule's). */
  readonly delayMs: number;
  /** Close the connection at once, with no reply (mid-DATA for DATA: after the 354, at the first data bytes). */
  readonly drop: boolean;
  /** The reply that replaces the normal one, or null to keep it (a delay alone). */
  readonly reply: Reply | null;
  /** Close the connection after the reply (`!close`). */
  readonly close: boolean;
}

/** One parsed rule. */
export interface Rule {
  /** The rule as written, for error messages and the `rules` field of the JSON output. */
  readonly source: string;
  readonly verb: RuleVerb;
  /** `~PATTERN` (case-insensitive), or null for every event of the verb. */
  readonly pattern: RegExp | null;
  readonly occurrence: Occurrence | null;
  /** `?P%` as a fraction from 0 to 1, or null: always. */
  readonly probability: number | null;
  readonly action: RuleAction;
}
