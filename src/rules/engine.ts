/**
 * The rule engine: given the rules and a seed, decides each event in the
 * order events come. State is one counter per rule (how many events it has
 * matched) and a seeded PRNG, so the same seed and the same sequence of
 * sessions give the same faults. One engine serves the whole server: "the
 * third message" is the third of the run, whichever connection sends it.
 * Pure apart from that state: no clock, no I/O.
 */
import type { RuleEvent, RuleOutcome } from '../channel/config.js';
import type { Occurrence, Rule } from './rule.js';

/** mulberry32: a small, fast, seeded PRNG; good enough to pick faults, replayable everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function occurs(o: Occurrence | null, count: number): boolean {
  if (o === null) return true;
  switch (o.kind) {
    case 'nth':
      return count === o.n;
    case 'from':
      return count >= o.n;
    case 'every':
      return count % o.n === 0;
    default: {
      const never: never = o;
      throw new Error(`unknown occurrence ${JSON.stringify(never)}`);
    }
  }
}

export class RuleEngine {
  private readonly counts: number[];
  private readonly random: () => number;

  constructor(
    readonly rules: readonly Rule[],
    readonly seed: number,
  ) {
    this.counts = rules.map(() => 0);
    this.random = mulberry32(seed);
  }

  /**
   * Every rule matching the event counts it. Rules fire in order: delays
   * add up, and the first rule that replies or drops ends the choice.
   * Undefined when no rule fired.
   */
  decide(event: RuleEvent): RuleOutcome | undefined {
    const fired: string[] = [];
    let delayMs = 0;
    let final: Rule | undefined;
    this.rules.forEach((rule, i) => {
      if (rule.verb !== event.verb && !(rule.verb === '*' && event.verb !== 'CONNECT' && event.verb !== 'EOD')) return;
      if (rule.pattern && !rule.pattern.test(event.subject)) return;
      const count = ++this.counts[i]!;
      if (final || !occurs(rule.occurrence, count)) return;
      // Drawn only for rules that would fire, so a seed replays whatever the other rules do.
      if (rule.probability !== null && !(this.random() < rule.probability)) return;
      fired.push(rule.source);
      delayMs += rule.action.delayMs;
      if (rule.action.drop || rule.action.reply) final = rule;
    });
    if (fired.length === 0) return undefined;
    return {
      rules: fired,
      delayMs,
      drop: final?.action.drop ?? false,
      reply: final?.action.reply ?? null,
      close: final?.action.close ?? false,
    };
  }

  /** The hook the channel takes (ChannelConfig.replyRule). */
  readonly hook = (event: RuleEvent): RuleOutcome | undefined => this.decide(event);
}
