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

/** How a channel behaves; fixed for its lifetime. */
export interface ChannelConfig {
  /** The name in the greeting and the EHLO reply (smtpd's `fqdn`). */
  readonly hostname: string;
  /** Text after the host name in the 220 greeting, e.g. `smtpd-ts 0.1.0`. */
  readonly banner: string;
  /** Largest accepted message in bytes; 0 means no limit and no SIZE keyword. */
  readonly dataSizeLimit: number;
  /** Advertise and accept SMTPUTF8 (RFC 6531), smtpd's `enable_SMTPUTF8`. */
  readonly enableSMTPUTF8: boolean;
  /** Emit `trace` actions for each line received (the `--debug` protocol trace). */
  readonly trace?: boolean;
  /** Recipients per transaction; more get 452 (RFC 5321 4.5.3.1.10). 0 or absent: no limit. */
  readonly maxRecipients?: number;
  /** Messages per connection; the next MAIL gets 421 and a close. 0 or absent: no limit. */
  readonly maxMessages?: number;
  /**
   * What to do with a message that has a bare CR or bare LF (RFC 5321 2.3.8
   * forbids them): `accept` it and count them in the message (the default,
   * as smtpd did), or `reject` it with 550 (Postfix's smtpd_forbid_bare_newline).
   * Either way they never end the message.
   */
  readonly bareLineEndings?: 'accept' | 'reject';
  /** Offer STARTTLS (RFC 3207): the I/O layer has a certificate. */
  readonly starttls?: boolean;
  /** MAIL before TLS gets 530 (`--require-tls`). */
  readonly requireTls?: boolean;
  /** AUTH (RFC 4954); absent: no AUTH command at all. */
  readonly auth?: AuthConfig;
  /** CHUNKING (RFC 3030): BDAT. */
  readonly chunking?: boolean;
  /**
   * BINARYMIME (RFC 3030), with `chunking`: MAIL takes BODY=BINARYMIME. Off
   * unless asked for, since smtpd answered that parameter 501.
   */
  readonly binaryMime?: boolean;
  /** ENHANCEDSTATUSCODES (RFC 2034/3463): every reply but the greeting and EHLO's carries its code. */
  readonly enhancedStatusCodes?: boolean;
  /** DSN (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT. */
  readonly dsn?: boolean;
  /** LMTP (RFC 2033): LHLO instead of HELO/EHLO, one reply per recipient after the data. */
  readonly lmtp?: boolean;
  /**
   * Decides each RCPT after its syntax is checked: undefined accepts the
   * recipient, a reply refuses it (550 from the relay policy). It must be
   * synchronous and pure, as the channel is: no I/O, no promises.
   */
  readonly acceptRecipient?: (address: string) => Reply | undefined;
  /**
   * Scripted replies and faults (`--reply`, src/rules/): asked at the
   * greeting, before each command runs and at the end of the data; an
   * outcome replaces the normal reply, delays it or drops the connection.
   * Synchronous, as the channel is; absent: nothing changes.
   */
  readonly replyRule?: (event: RuleEvent) => RuleOutcome | undefined;
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

/** How AUTH behaves. */
export interface AuthConfig {
  /** Offer AUTH without TLS (loopback, or `--auth-insecure`); otherwise only after TLS. */
  readonly insecure?: boolean;
  /** user -> password; absent: any credentials are accepted (a debugging sink). */
  readonly users?: ReadonlyMap<string, string>;
  /** MAIL before AUTH gets 530 (`--require-auth`). */
  readonly required?: boolean;
  /**
   * The CRAM-MD5 challenge (RFC 2195: `<unique.timestamp@host>`). Supplied by
   * the I/O layer, which has clocks and randomness; the default,
   * `<smtpd-ts@hostname>`, is fixed so that byte scripts are repeatable.
   */
  readonly challenge?: () => string;
}

/** The TLS session, as the I/O layer reports it once the handshake is done. */
export interface TlsInfo {
  /** e.g. `TLSv1.3`. */
  readonly protocol: string;
  /** e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
}

/** How many bare line endings a message had (CR not before LF, LF not after CR). */
export interface BareLineEndings {
  readonly cr: number;
  readonly lf: number;
}

/** The envelope of a completed message, as the channel accepted it. */
export interface ChannelMessage {
  /** The HELO/EHLO argument (smtpd's `seen_greeting`). */
  readonly helo: string;
  /** True after EHLO, false after HELO. */
  readonly extended: boolean;
  /** The MAIL FROM address as smtpd gives it: `<>` for the null sender. */
  readonly mailFrom: string;
  readonly rcptTos: readonly string[];
  /** Upper-cased MAIL parameters, e.g. `['BODY=8BITMIME', 'SIZE=1000']`. */
  readonly mailOptions: readonly string[];
  /** Upper-cased RCPT parameters of the last recipient, as smtpd passes them. */
  readonly rcptOptions: readonly string[];
  /** The message: dots unstuffed, bytes as received (never decoded), ending with CRLF unless empty. */
  readonly data: Buffer;
  /** Bare CRs and LFs in `data`: senders' bugs, and the stuff of SMTP smuggling. */
  readonly bareLineEndings: BareLineEndings;
  /** The TLS session the message came over, or null in the clear. */
  readonly tls?: TlsInfo | null;
  /** The user name the client authenticated as (never the password), or null. */
  readonly authUser?: string | null;
  /** Scripted rules (`--reply`) that fired during this transaction, as written; absent when none. */
  readonly rules?: readonly string[];
}

/** What the channel asks its I/O layer to do, in order. */
export type Action =
  /** Send this reply to the client. */
  | { readonly kind: 'reply'; readonly reply: Reply }
  /**
   * A message is complete. The channel is paused until `settle()` is called
   * with the handler's verdict; bytes received meanwhile are held.
   */
  | { readonly kind: 'message'; readonly message: ChannelMessage }
  /** Close the connection once the replies before this action are sent. */
  | { readonly kind: 'close' }
  /**
   * Start a server-side TLS handshake on the connection (after the 220 to
   * STARTTLS), then call `tlsEstablished()`. Bytes received meanwhile are
   * discarded by the channel (CVE-2011-0411).
   */
  | { readonly kind: 'starttls' }
  /** A line received, for the protocol trace (only with `trace: true`). */
  | { readonly kind: 'trace'; readonly line: string }
  /** Carry out the actions after this one `ms` milliseconds later (a scripted delay). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Close the connection at once, with nothing more sent (a scripted fault). */
  | { readonly kind: 'drop' }
  /** A scripted rule fired (for the session transcript). */
  | { readonly kind: 'rule'; readonly rule: string };

/** The channel's state, smtpd's `smtp_state` plus the states smtpd had no name for. */
export type ChannelStateName = 'command' | 'data' | 'bdat' | 'auth' | 'starttls' | 'awaiting-verdict' | 'closed';
