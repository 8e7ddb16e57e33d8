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
  /** A line received, for the protocol trace (only with `trace: true`). */
  | { readonly kind: 'trace'; readonly line: string };

/** The channel's state, smtpd's `smtp_state` plus the states smtpd had no name for. */
export type ChannelStateName = 'command' | 'data' | 'awaiting-verdict' | 'closed';
