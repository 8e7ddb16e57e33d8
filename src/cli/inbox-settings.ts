/**
 * `--http` and the flags of the inbox it serves, as data: one setting
 * each, under one name (`config.inbox`), null without `--http`. Pure, like
 * the rest of config.ts; bad values throw UsageError (exit 2). The bounds
 * hold only what was given: their defaults are the inbox's (INBOX_DEFAULTS,
 * applied where the inbox is opened).
 */
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import type { InboxSettings } from '../inbox/open-inbox.js';
import type { TagSources } from '../inbox/tags.js';
import { optionalPath, parseHostPort, parseSize, wholeNumber, type HostPort } from './flag-values.js';

/** Where `--http` listens when given without a value: Mailpit's port, on loopback. */
export const DEFAULT_HTTP = '127.0.0.1:8025';

export interface InboxCliSettings {
  /** `--http`: where the HTTP API listens. */
  readonly listen: HostPort;
  /** `--http-allow-host`, lower case. */
  readonly allowHosts: readonly string[];
  /** `--http-cors`: an origin or `*`; null: none. */
  readonly corsOrigin: string | null;
  /** `--http-auth-file` (read at start); null: no auth. */
  readonly authFile: string | null;
  /** Where a message's tags come from at arrival (`--tags-disable`, `--tags-username`). */
  readonly tags: TagSources;
  /** `--http-webroot`: the path the inbox is served under, a slash at each end (`/` for none). */
  readonly webroot: string;
  /** HTTPS: `--http-tls-cert` and `--http-tls-key`, or `smtp` for `--http-tls` (SMTP's, or one made for the run). */
  readonly tls: { readonly cert: string; readonly key: string } | 'smtp' | null;
  /** `--max-messages`, `--max-inbox-size`, `--max-age`, as given; `--store` (a PostgreSQL URL, or null). */
  readonly kept: Pick<InboxSettings, 'maxMessages' | 'maxBytes' | 'maxAgeMs' | 'database'>;
}

/** The inbox flags as commander gives them. */
export interface InboxCliOptions {
  http?: string | boolean;
  /** Mailpit's name for `--http HOST:PORT`. */
  listen?: string;
  httpAllowHost?: string[];
  httpCors?: string;
  httpAuthFile?: string;
  maxMessages?: string;
  maxInboxSize?: string;
  maxAge?: string;
  store?: string;
  tagsDisable?: string;
  tagsUsername?: boolean;
  httpWebroot?: string;
  httpTls?: boolean;
  httpTlsCert?: string;
  httpTlsKey?: string;
}

/** What `--tags-disable` takes, as Mailpit names them. */
const TAG_SOURCES = ['x-tags', 'plus-addresses'] as const;

/** `--tags-disable x-tags,plus-addresses` and `--tags-username`. */
function tagSources(disable: string | undefined, username: boolean): TagSources {
  const off = (disable ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const name of off)
    if (!(TAG_SOURCES as readonly string[]).includes(name))
      throw new UsageError(`--tags-disable takes ${TAG_SOURCES.join(', ')} (comma separated), not '${name}'`);
  return { xTags: !off.includes('x-tags'), plusAddresses: !off.includes('plus-addresses'), username };
}

/** `--http`, `--http PORT` or `--http HOST:PORT`. */
function httpAddress(value: string | boolean): HostPort {
  if (value === true) return parseHostPort(DEFAULT_HTTP, 'HTTP');
  const spec = String(value);
  return parseHostPort(/^[0-9]+$/.test(spec) ? `127.0.0.1:${spec}` : spec, 'HTTP');
}

/** `90s`, `30m`, `12h`, `7d`, or seconds, as milliseconds (above 0). */
function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (!(ms > 0)) throw new UsageError(`${flag} takes a duration such as 90s, 30m, 12h or 7d, not '${value}'`);
  return ms;
}

/** `--http-webroot mail`, `/mail`, `/mail/`: `/mail/`; paths of letters, digits and `-._~` only. */
function webroot(value: string | undefined): string {
  if (value === undefined) return '/';
  const parts = value.split('/').filter((p) => p !== '');
  if (!parts.every((p) => /^[A-Za-z0-9._~-]+$/.test(p) && p !== '.' && p !== '..'))
    throw new UsageError(`--http-webroot takes a path such as /mail/, not '${value}'`);
  return parts.length === 0 ? '/' : `/${parts.join('/')}/`;
}

/** `--http-tls`, or `--http-tls-cert` with `--http-tls-key`. */
function httpsCredentials(options: InboxCliOptions): InboxCliSettings['tls'] {
  const { httpTls, httpTlsCert, httpTlsKey } = options;
  if ((httpTlsCert === undefined) !== (httpTlsKey === undefined))
    throw new UsageError('--http-tls-cert and --http-tls-key go together: give both');
  if (httpTlsCert !== undefined) {
    if (httpTls) throw new UsageError("--http-tls uses the SMTP side's certificate, --http-tls-cert its own: give one");
    return { cert: optionalPath(httpTlsCert, '--http-tls-cert')!, key: optionalPath(httpTlsKey, '--http-tls-key')! };
  }
  return httpTls ? 'smtp' : null;
}

/** `--store`: a PostgreSQL URL. */
function storeUrl(value: string): string {
  if (!/^postgres(?:ql)?:\/\/\S+$/.test(value))
    throw new UsageError(`--store takes a postgres://user@host:port/database URL, not '${value}'`);
  return value;
}

/** The inbox's settings; null without `--http`, where any of its flags is a usage error. */
export function toInboxSettings(given: InboxCliOptions): InboxCliSettings | null {
  if (given.listen !== undefined && given.http !== undefined)
    throw new UsageError("--listen is --http under Mailpit's name: give one");
  const options = given.listen === undefined ? given : { ...given, http: given.listen };
  if (options.http === undefined) {
    if (options.store !== undefined) {
      storeUrl(options.store);
      throw new UsageError('--store needs --http (it holds the inbox)');
    }
    const given = [
      options.httpAllowHost,
      options.httpCors,
      options.httpAuthFile,
      options.maxMessages,
      options.maxInboxSize,
      options.maxAge,
      options.tagsDisable,
      options.tagsUsername,
      options.httpWebroot,
      options.httpTls,
      options.httpTlsCert,
      options.httpTlsKey,
    ].some((o) => o !== undefined);
    if (given)
      throw new UsageError('the --http-* flags, --max-messages, --max-inbox-size, --max-age and --tags-* need --http');
    return null;
  }
  const cors = options.httpCors ?? null;
  if (cors !== null && cors !== '*' && !/^https?:\/\/[^/\s]+$/.test(cors))
    throw new UsageError(`--http-cors takes an origin (http://host:port) or *, not '${cors}'`);
  return {
    listen: httpAddress(options.http),
    allowHosts: (options.httpAllowHost ?? []).map((h) => h.toLowerCase()),
    corsOrigin: cors,
    authFile: optionalPath(options.httpAuthFile, '--http-auth-file'),
    tags: tagSources(options.tagsDisable, options.tagsUsername ?? false),
    webroot: webroot(options.httpWebroot),
    tls: httpsCredentials(options),
    kept: {
      ...(options.maxMessages !== undefined
        ? { maxMessages: wholeNumber(options.maxMessages, '--max-messages', 0) }
        : {}),
      ...(options.maxInboxSize !== undefined ? { maxBytes: parseSize(options.maxInboxSize, '--max-inbox-size') } : {}),
      ...(options.maxAge !== undefined ? { maxAgeMs: duration(options.maxAge, '--max-age') } : {}),
      database: options.store === undefined ? null : storeUrl(options.store),
    },
  };
}
