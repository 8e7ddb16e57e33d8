/**
 * The flags of scripted replies, faults and transcripts as data:
 * `--reply RULE` (repeatable), `--rules FILE`, `--seed N`,
 * `--connection-rate N/SECONDS` and `--transcript`. Pure, like config.ts,
 * which calls `toRuleSettings`: a bad rule throws UsageError naming the bad
 * part (exit 2). The `--rules` file is read by `loadRulesFile`, called by
 * the CLI right after, so that its errors are usage errors too.
 */
import { readFileSync } from 'node:fs';
import { optionalPath } from './flag-values.js';
import { parseRule, parseRulesFile } from '../rules/parse.js';
import type { Rule } from '../rules/rule.js';
import { UsageError, RuleSyntaxError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';

export interface RuleCliOptions {
  reply?: string[];
  rules?: string;
  seed?: string;
  connectionRate?: string;
  transcript?: boolean;
}

export interface RuleSettings {
  /** `--reply` rules, then the `--rules` file's, in order (the file's once loaded). */
  readonly rules: readonly Rule[];
  /** `--rules`, or null. */
  readonly rulesFile: string | null;
  /** `--seed`, or null: a random seed, reported on stderr when a rule has a probability. */
  readonly seed: number | null;
  /** `--connection-rate`: more than `count` connections within `windowMs` get 421 and a close. */
  readonly connectionRate: { readonly count: number; readonly windowMs: number } | null;
  /** `--transcript`: record every session. */
  readonly transcript: boolean;
}

function rate(value: string | undefined): RuleSettings['connectionRate'] {
  if (value === undefined) return null;
  const m = /^([0-9]+)\/([0-9]+(?:\.[0-9]+)?)s?$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) {
    throw new UsageError(
      `--connection-rate needs N/SECONDS (e.g. 5/1: at most 5 connections a second), not '${value}'`,
    );
  }
  return { count: Number(m[1]), windowMs: Math.round(Number(m[2]) * 1000) };
}

/** Turns the flags into settings. Pure. */
export function toRuleSettings(o: RuleCliOptions): RuleSettings {
  let rules: Rule[];
  try {
    rules = (o.reply ?? []).map(parseRule);
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new UsageError(`--reply: ${err.message}`);
    throw err;
  }
  const rulesFile = optionalPath(o.rules, '--rules');
  if (o.seed !== undefined && (!/^[0-9]+$/.test(o.seed) || Number(o.seed) > 0xffffffff)) {
    throw new UsageError(`--seed needs a whole number from 0 to 4294967295, not '${o.seed}'`);
  }
  return {
    rules,
    rulesFile,
    seed: o.seed === undefined ? null : Number(o.seed),
    connectionRate: rate(o.connectionRate),
    transcript: o.transcript ?? false,
  };
}

/** Reads and parses the `--rules` file, appending its rules; a missing file or a bad line is a UsageError. */
export function loadRulesFile(
  settings: RuleSettings,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): RuleSettings {
  if (settings.rulesFile === null) return settings;
  let text: string;
  try {
    text = read(settings.rulesFile);
  } catch (err) {
    throw new UsageError(`cannot read --rules ${settings.rulesFile}: ${describeIoError(err)}`);
  }
  try {
    return { ...settings, rules: [...settings.rules, ...parseRulesFile(text, settings.rulesFile)] };
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new UsageError(`--rules: ${err.message}`);
    throw err;
  }
}

/** Whether any rule draws on the PRNG (then the seed is worth reporting). */
export function usesRandom(settings: RuleSettings): boolean {
  return settings.rules.some((r) => r.probability !== null);
}
