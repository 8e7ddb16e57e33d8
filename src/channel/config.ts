/**
 * How a channel behaves, fixed for its lifetime. `SmtpSettings` are the
 * settings a user chooses; they keep one name from the flag (config.ts)
 * through `SMTPServer`'s options to the channel, and their defaults are
 * written once, in `SMTP_DEFAULTS`, and applied once, by
 * `resolveChannelConfig` when a channel is made.
 */
import type { Reply } from './reply.js';

/** Python smtpd's default data size limit (`DATA_SIZE_DEFAULT`), in bytes. */
export const DATA_SIZE_DEFAULT = 33_554_432;

/** smtpd's `command_size_limit`: command line length in bytes, CRLF excluded. */
export const COMMAND_SIZE_LIMIT = 512;

/**
 * Extra room smtpd gives MAIL after EHLO: 26 bytes for `SIZE=` (RFC 1870
 * section 4) and 10 for `SMTPUTF8` (RFC 6531 section 3.4).
 */
export const MAIL_SIZE_EXTENSION = 26;
export const MAIL_SMTPUTF8_EXTENSION = 10;

/** How AUTH behaves. */
export interface AuthConfig {
  /** Offer AUTH without TLS (loopback, or `--auth-insecure`); otherwise only after TLS. */
  readonly insecure: boolean;
  /** user -> password; null: any credentials are accepted (a debugging sink). */
  readonly users: ReadonlyMap<string, string> | null;
  /** MAIL before AUTH gets 530 (`--require-auth`). */
  readonly required: boolean;
  /**
   * The CRAM-MD5 challenge (RFC 2195: `<unique.timestamp@host>`). Supplied by
   * the I/O layer, which has clocks and randomness; the default,
   * `<smtpd-ts@hostname>`, is fixed so that byte scripts are repeatable.
   */
  readonly challenge?: () => string;
}

/** The SMTP settings a user chooses, by flag or option; the same names at every layer. */
export interface SmtpSettings {
  /** Largest accepted message in bytes (`-s`); 0 means no limit and no SIZE keyword. */
  readonly dataSizeLimit: number;
  /** Advertise and accept SMTPUTF8 (RFC 6531), smtpd's `enable_SMTPUTF8` (`--smtputf8`). */
  readonly smtputf8: boolean;
  /** Recipients per transaction; more get 452 (RFC 5321 4.5.3.1.10). 0: no limit. */
  readonly maxRecipients: number;
  /** Messages per connection; the next MAIL gets 421 and a close. 0: no limit. */
  readonly maxMessagesPerConnection: number;
  /**
   * What to do with a message that has a bare CR or bare LF (RFC 5321 2.3.8
   * forbids them): `accept` it and count them in the message (as smtpd did),
   * or `reject` it with 550 (Postfix's smtpd_forbid_bare_newline). Either
   * way they never end the message.
   */
  readonly bareLf: 'accept' | 'reject';
  /** MAIL before TLS gets 530 (`--require-tls`). */
  readonly requireTls: boolean;
  /** AUTH (RFC 4954); null: no AUTH command at all (`--no-auth`). */
  readonly auth: AuthConfig | null;
  /** CHUNKING (RFC 3030): BDAT. */
  readonly chunking: boolean;
  /**
   * BINARYMIME (RFC 3030), with `chunking`: MAIL takes BODY=BINARYMIME. Off
   * unless asked for, since smtpd answered that parameter 501.
   */
  readonly binaryMime: boolean;
  /** ENHANCEDSTATUSCODES (RFC 2034/3463): every reply but the greeting and EHLO's carries its code. */
  readonly enhancedStatusCodes: boolean;
  /** DSN (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT. */
  readonly dsn: boolean;
  /** LMTP (RFC 2033): LHLO instead of HELO/EHLO, one reply per recipient after the data. */
  readonly lmtp: boolean;
}

/** AUTH as it is unless told otherwise: offered after TLS, any credentials accepted. */
export const AUTH_DEFAULTS: AuthConfig = { insecure: false, users: null, required: false };

/** The defaults, written once. */
export const SMTP_DEFAULTS: SmtpSettings = {
  dataSizeLimit: DATA_SIZE_DEFAULT,
  smtputf8: false,
  // RFC 5321 4.5.3.1.8 asks for at least 100.
  maxRecipients: 1000,
  maxMessagesPerConnection: 0,
  bareLf: 'accept',
  requireTls: false,
  auth: AUTH_DEFAULTS,
  chunking: true,
  binaryMime: false,
  enhancedStatusCodes: false,
  dsn: false,
  lmtp: false,
};

/** What the I/O layer sets for a channel, beside the user's settings. */
export interface ChannelHooks {
  /** The name in the greeting and the EHLO reply (smtpd's `fqdn`). */
  readonly hostname: string;
  /** Text after the host name in the 220 greeting, e.g. `smtpd-ts 0.1.0`. */
  readonly banner: string;
  /** Emit `trace` actions for each line received (the `--debug` protocol trace). */
  readonly trace: boolean;
  /** Offer STARTTLS (RFC 3207): the I/O layer has a certificate. */
  readonly starttls: boolean;
  /**
   * Decides each RCPT after its syntax is checked: undefined accepts the
   * recipient, a reply refuses it (550 from the relay policy). It must be
   * synchronous and pure, as the channel is: no I/O, no promises.
   */
  readonly acceptRecipient?: ((address: string) => Reply | undefined) | undefined;
  /**
   * Scripted replies and faults (`--reply`, src/rules/): asked at the
   * greeting, before each command runs and at the end of the data; an
   * outcome replaces the normal reply, delays it or drops the connection.
   * Synchronous, as the channel is; absent: nothing changes.
   */
  readonly replyRule?: ((event: RuleEvent) => RuleOutcome | undefined) | undefined;
}

/** A channel's configuration, every setting decided. */
export interface ChannelConfig extends SmtpSettings, ChannelHooks {}

/**
 * What `new SMTPChannel()` takes: a host name and a banner, and any other setting; the
 * rest come from `SMTP_DEFAULTS` (AUTH: from `AUTH_DEFAULTS`, field by field).
 */
export type ChannelOptions = Pick<ChannelHooks, 'hostname' | 'banner'> &
  Partial<Omit<ChannelConfig, 'hostname' | 'banner' | 'auth'>> & { readonly auth?: Partial<AuthConfig> | null };

/** Configurations this module built: a server's, shared by its connections, is not copied again for each. */
const RESOLVED = new WeakSet<ChannelConfig>();

/** Applies the defaults, the one place they are applied. */
export function resolveChannelConfig(options: ChannelOptions): ChannelConfig {
  if (RESOLVED.has(options as ChannelConfig)) return options as ChannelConfig;
  const auth = options.auth === null ? null : { ...AUTH_DEFAULTS, ...options.auth };
  const config: ChannelConfig = { ...SMTP_DEFAULTS, trace: false, starttls: false, ...options, auth };
  RESOLVED.add(config);
  return config;
}

/** What the channel asks the rules about. */
export interface RuleEvent {
  /** `CONNECT` (the greeting), a command verb upper-cased, or `EOD` (the end of the data). */
  readonly verb: string;
  /**
   * What a pattern is matched against: the command's argument (AUTH: its
   * mechanism only, never a secret), the message's header section for EOD,
   * '' for CONNECT.
   */
  readonly subject: string;
}

/** What the rules decided for one event. */
export interface RuleOutcome {
  /** The rules that fired, as written (recorded in the message's or session's JSON). */
  readonly rules: readonly string[];
  /** Wait this long (a `delay` action) before the reply. */
  readonly delayMs: number;
  /** Close the connection without a reply (for DATA: after the 354, at the first data bytes). */
  readonly drop: boolean;
  /** The reply instead of the normal one, or null to keep it. */
  readonly reply: Reply | null;
  /** Close after the reply. */
  readonly close: boolean;
}
