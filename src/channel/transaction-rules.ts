/**
 * The rules a transaction's envelope passes, written once: the channel asks
 * them at MAIL and RCPT (commands.ts), and the server asks them for a
 * message that comes whole from elsewhere (the HTTP API's send and
 * release: `transactionRefusal`), so mail that reaches an upstream through
 * the API passes exactly what SMTP mail passes. Pure.
 */
import type { ChannelConfig } from './config.js';
import { R, type Reply } from './reply.js';

type Rules = Pick<ChannelConfig, 'auth' | 'dataSizeLimit' | 'maxRecipients' | 'acceptRecipient'>;

/** RFC 4954 section 6: a server may insist on AUTH before MAIL. */
export function authRefusal(config: Rules, authenticated: boolean): Reply | undefined {
  return config.auth?.required && !authenticated ? R.R530_NEED_AUTH : undefined;
}

/** RFC 1870: a message (or its declared SIZE) over the limit. */
export function sizeRefusal(config: Rules, size: number): Reply | undefined {
  return config.dataSizeLimit && size > config.dataSizeLimit ? R.R552_SIZE_EXCEEDED : undefined;
}

/** RCPT: the relay policy for `address`, then the count, `count` recipients taken (RFC 5321 4.5.3.1.10). */
export function recipientRefusal(config: Rules, address: string, count: number): Reply | undefined {
  const refusal = config.acceptRecipient?.(address);
  if (refusal) return refusal;
  return config.maxRecipients > 0 && count >= config.maxRecipients ? R.R452_TOO_MANY_RECIPIENTS : undefined;
}

/** The first rule a whole transaction breaks, in the order SMTP asks them; undefined when it passes. */
export function transactionRefusal(
  config: Rules,
  transaction: { readonly authenticated: boolean; readonly size: number; readonly to: readonly string[] },
): Reply | undefined {
  const first = authRefusal(config, transaction.authenticated) ?? sizeRefusal(config, transaction.size);
  if (first) return first;
  for (const [count, address] of transaction.to.entries()) {
    const refusal = recipientRefusal(config, address, count);
    if (refusal) return refusal;
  }
  return undefined;
}
