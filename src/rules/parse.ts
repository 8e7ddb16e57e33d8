/**
 * The rule syntax, one rule per `--reply` or per line of `--rules FILE`:
 *
 *   VERB[~PATTERN][#OCCURRENCE][?PROBABILITY%]=ACTION
 *
 *   RCPT~bounce@=550 5.1.1 No such user
 *   EOD#3=451 4.3.0 Try again later
 *   MAIL#2=421 Bye!close
 *   CONNECT=delay:2s               (a slow greeting)
 *   DATA=drop                      (the connection drops mid-DATA)
 *   EOD?10%=451 4.3.0 Random fault (with --seed to replay)
 *
 * PATTERN is a case-insensitive regular expression; written bare it ends at
 * `#`, `?` or `=`, written `/.../` it may hold them. OCCURRENCE is `N` (the
 * Nth), `N+` (the Nth and after) or `*N` (every Nth). ACTION is
 * `[delay:DURATION] [REPLY[!close] | drop]`, REPLY `CODE [X.Y.Z] [TEXT]`.
 * Pure: a bad rule throws RuleSyntaxError naming the bad part.
 */
import type { Reply } from '../channel/reply.js';
import { RuleSyntaxError } from '../errors.js';
import { RULE_VERBS, type Occurrence, type Rule, type RuleAction, type RuleVerb } from './rule.js';

/** The longest delay a rule may ask for: past the RFC 5321 4.5.3.2 client timeouts it tests nothing. */
export const MAX_DELAY_MS = 600_000;

const ENHANCED = /^([245])\.[0-9]{1,3}\.[0-9]{1,3}$/;

function fail(source: string, why: string): never {
  throw new RuleSyntaxError(`bad rule '${source}': ${why}`);
}

/** Reads a bare pattern up to one of `stops`, or a `/.../` one; returns it and the index after it. */
function readPattern(source: string, from: number): [string, number] {
  if (source[from] === '/') {
    let i = from + 1;
    let text = '';
    for (; i < source.length && source[i] !== '/'; i++) {
      // `\/` is a slash in the pattern; other escapes are the regexp's.
      if (source[i] === '\\' && source[i + 1] === '/') text += source[++i];
      else if (source[i] === '\\' && i + 1 < source.length) text += source[i] + source[++i]!;
      else text += source[i];
    }
    if (i >= source.length) fail(source, `pattern '${source.slice(from)}' has no closing '/'`);
    return [text, i + 1];
  }
  let i = from;
  while (i < source.length && !'#?='.includes(source[i]!)) i++;
  return [source.slice(from, i), i];
}

function parseDuration(source: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/.exec(text);
  if (!m) fail(source, `bad delay '${text}': expected e.g. 500ms, 2s or 2.5s`);
  const ms = Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
  if (ms > MAX_DELAY_MS) fail(source, `delay '${text}' is over ${MAX_DELAY_MS / 1000}s`);
  return ms;
}

function parseReply(source: string, verb: RuleVerb, text: string): Reply {
  const m = /^([0-9]{3})(?: (.*))?$/s.exec(text);
  if (!m) fail(source, `bad reply '${text}': expected CODE [X.Y.Z] [TEXT], drop, or delay:DURATION`);
  const code = Number(m[1]);
  if (code < 200 || code > 599) fail(source, `bad reply code ${m[1]}: expected 200 to 599`);
  // A rule replaces a command's outcome, so it can only refuse: a 250 that
  // skipped the command would leave the client and us disagreeing.
  const allowed =
    verb === 'CONNECT' ? code === 220 || code >= 400 : verb === 'EOD' ? code < 300 || code >= 400 : code >= 400;
  if (!allowed) {
    const expected = verb === 'CONNECT' ? '220, 4xx or 5xx' : verb === 'EOD' ? '2xx, 4xx or 5xx' : '4xx or 5xx';
    fail(source, `reply code ${code} for ${verb}: expected ${expected}`);
  }
  const rest = m[2] ?? '';
  if (/[^\x20-\x7e]/.test(rest)) fail(source, `reply text '${rest}' has a control or non-ASCII character`);
  const space = rest.indexOf(' ');
  const first = space < 0 ? rest : rest.slice(0, space);
  const enhanced = ENHANCED.exec(first);
  if (enhanced) {
    if (Number(enhanced[1]) !== Math.floor(code / 100))
      fail(source, `enhanced code ${first} does not match reply code ${code}`);
    // Written by the user, so sent as written, with or without ENHANCEDSTATUSCODES.
    return { code, lines: [rest], enhanced: '' };
  }
  if (/^[0-9]+\.[0-9.]*( |$)/.test(first))
    fail(source, `bad enhanced code '${first}': expected X.Y.Z with X 2, 4 or 5`);
  return { code, lines: [rest] };
}

function parseAction(source: string, verb: RuleVerb, text: string): RuleAction {
  let rest = text.trim();
  let delayMs = 0;
  const delay = /^delay:(\S*)\s*/.exec(rest);
  if (delay) {
    delayMs = parseDuration(source, delay[1]!);
    rest = rest.slice(delay[0].length);
  }
  if (rest === '') {
    if (!delay) fail(source, "nothing after '=': expected a reply, drop, or delay:DURATION");
    return { delayMs, drop: false, reply: null, close: false };
  }
  if (rest === 'drop') return { delayMs, drop: true, reply: null, close: false };
  const close = rest.endsWith('!close');
  if (close) rest = rest.slice(0, -'!close'.length).trimEnd();
  return { delayMs, drop: false, reply: parseReply(source, verb, rest), close };
}

function parseOccurrence(source: string, text: string): Occurrence {
  const m = /^(\*)?([0-9]+)(\+)?$/.exec(text);
  const n = m ? Number(m[2]) : 0;
  if (!m || (m[1] && m[3]) || n < 1 || !Number.isSafeInteger(n))
    fail(source, `bad occurrence '#${text}': expected #N, #N+ or #*N with N from 1`);
  return m[1] ? { kind: 'every', n } : m[3] ? { kind: 'from', n } : { kind: 'nth', n };
}

function parseProbability(source: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(text);
  if (!m || Number(m[1]) > 100) fail(source, `bad probability '?${text}': expected 0% to 100%`);
  return Number(m[1]) / 100;
}

/** Parses one rule. */
export function parseRule(source: string): Rule {
  const verbMatch = /^[A-Za-z]+|^\*/.exec(source);
  const verb = verbMatch?.[0].toUpperCase() ?? '';
  if (!(RULE_VERBS as readonly string[]).includes(verb)) {
    const word = verb || source.split(/[~#?=]/)[0] || source;
    fail(source, `unknown verb '${word}': expected one of ${RULE_VERBS.join(' ')}`);
  }
  const ruleVerb = verb as RuleVerb;
  let i = verb.length;
  let pattern: RegExp | null = null;
  let occurrence: Occurrence | null = null;
  let probability: number | null = null;
  for (;;) {
    const c = source[i];
    if (c === '=') break;
    if (c === undefined) fail(source, "no '=': expected VERB[~PATTERN][#N][?P%]=ACTION");
    if (c === '~' && pattern === null && occurrence === null && probability === null) {
      if (ruleVerb === 'CONNECT') fail(source, 'CONNECT takes no ~PATTERN');
      const [text, next] = readPattern(source, i + 1);
      if (text === '') fail(source, "empty pattern after '~'");
      try {
        pattern = new RegExp(text, 'i');
      } catch (err) {
        fail(source, `bad pattern '${text}': ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
      i = next;
    } else if (c === '#' && occurrence === null && probability === null) {
      const end = source.slice(i + 1).search(/[?=~]/);
      const text = end < 0 ? source.slice(i + 1) : source.slice(i + 1, i + 1 + end);
      occurrence = parseOccurrence(source, text);
      i += 1 + text.length;
    } else if (c === '?' && probability === null) {
      const end = source.indexOf('=', i);
      const text = end < 0 ? source.slice(i + 1) : source.slice(i + 1, end);
      probability = parseProbability(source, text);
      i += 1 + text.length;
    } else {
      fail(
        source,
        `unexpected '${source.slice(i)}' after ${verb}: expected ~PATTERN, #N, ?P% (in that order) then '='`,
      );
    }
  }
  return {
    source,
    verb: ruleVerb,
    pattern,
    occurrence,
    probability,
    action: parseAction(source, ruleVerb, source.slice(i + 1)),
  };
}

/** Parses a `--rules` file: one rule a line; blank lines and `#` comments are skipped. Errors name the line. */
export function parseRulesFile(text: string, name: string): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    try {
      rules.push(parseRule(trimmed));
    } catch (err) {
      if (err instanceof RuleSyntaxError) throw new RuleSyntaxError(`${name} line ${index + 1}: ${err.message}`);
      throw err;
    }
  });
  return rules;
}
