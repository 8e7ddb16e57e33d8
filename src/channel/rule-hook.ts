/**
 * The channel's side of scripted replies (ChannelConfig.replyRule): what a
 * rule's pattern is matched against, and the actions that announce an
 * outcome. The rules themselves live in src/rules/; the channel only asks.
 */
import { headerBlockEnd } from '../header-block.js';
import type { RuleOutcome } from './config.js';
import type { Action } from './actions.js';

/** Verbs whose rules belong to the transaction, and so to the message's JSON. */
const TRANSACTION_VERBS = new Set(['MAIL', 'RCPT', 'DATA', 'BDAT', 'EOD']);

/** Whether an outcome for `verb` is recorded with the transaction's message. */
export function belongsToTransaction(verb: string, inTransaction: boolean): boolean {
  return inTransaction || TRANSACTION_VERBS.has(verb);
}

/** A command's subject: its argument; for AUTH only the mechanism, since the rest is a secret. */
export function commandSubject(verb: string, arg: string | null): string {
  if (arg === null) return '';
  return verb === 'AUTH' ? (arg.split(' ')[0] ?? '') : arg;
}

/** The header section of a message (up to the first empty line), what EOD patterns match. */
export function headerSection(data: Buffer): string {
  const block = headerBlockEnd(data);
  return data.subarray(0, block ? block.end : data.length).toString('latin1');
}

/** The `rule` actions (for the transcript) and the delay, that come before the outcome's effect. */
export function announce(outcome: RuleOutcome): Action[] {
  const actions: Action[] = outcome.rules.map((rule) => ({ kind: 'rule', rule }));
  if (outcome.delayMs > 0) actions.push({ kind: 'delay', ms: outcome.delayMs });
  return actions;
}
