/**
 * `--webhook` and its flags as the sender's settings (`config.webhook`),
 * null without it. Pure; bad values throw UsageError (exit 2). The sender
 * is http/webhook.ts.
 */
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { mailpitSearch } from '../inbox/search.js';
import net from 'node:net';
import type { WebhookSettings } from '../http/webhook.js';
import { isInternalAddress } from '../loopback.js';
import { wholeNumber } from './flag-values.js';

export interface WebhookCliOptions {
  webhook?: string;
  /** Mailpit's name for `--webhook`. */
  webhookUrl?: string;
  webhookLimit?: string;
  webhookDelay?: string;
  webhookQuery?: string;
  webhookRaw?: boolean;
  webhookLabel?: string;
  webhookAllowInternal?: boolean;
}

/** Why `url` may not be posted to as written (an internal IP literal), or null. */
function webhookRefusal(url: URL, allowInternal: boolean): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--webhook takes an http:// or https:// URL`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowInternal && net.isIP(host) !== 0 && isInternalAddress(host))
    return `--webhook ${url.host} is an internal address: allow it with --webhook-allow-internal`;
  return null;
}

/** Requests a second by default: a burst of mail is posted in order, not all at once. */
export const WEBHOOK_LIMIT_DEFAULT = 5;

export function toWebhookSettings(options: WebhookCliOptions, http: boolean): WebhookSettings | null {
  if (options.webhook !== undefined && options.webhookUrl !== undefined)
    throw new UsageError("--webhook-url is --webhook under Mailpit's name: give one");
  const given = options.webhook ?? options.webhookUrl;
  if (given === undefined) {
    const others = [
      options.webhookLimit,
      options.webhookDelay,
      options.webhookQuery,
      options.webhookRaw,
      options.webhookLabel,
      options.webhookAllowInternal,
    ];
    if (others.some((o) => o !== undefined)) throw new UsageError('the --webhook-* flags need --webhook URL');
    return null;
  }
  if (!http) throw new UsageError('--webhook posts what the inbox receives: give --http too');
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--webhook takes a URL such as https://ci.example.test/hook, not '${given}'`);
  }
  const allowInternal = options.webhookAllowInternal ?? false;
  const refusal = webhookRefusal(url, allowInternal);
  if (refusal !== null) throw new UsageError(refusal);
  const delayMs = options.webhookDelay === undefined ? 0 : parseDuration(options.webhookDelay);
  if (!(delayMs >= 0))
    throw new UsageError(`--webhook-delay takes a duration such as 2s or 500ms, not '${options.webhookDelay}'`);
  const query = options.webhookQuery?.trim() || null;
  const search = query === null ? null : mailpitSearch(query);
  if (typeof search === 'string') throw new UsageError(`--webhook-query: ${search}`);
  return {
    url,
    perSecond: wholeNumber(options.webhookLimit, '--webhook-limit', WEBHOOK_LIMIT_DEFAULT, 1),
    delayMs,
    search,
    raw: options.webhookRaw ?? false,
    label: options.webhookLabel ?? null,
    allowInternal,
  };
}
