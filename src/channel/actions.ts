/**
 * What the channel gives its I/O layer: the actions to carry out, in order,
 * and the messages and TLS facts they carry.
 */
import type { Reply } from './reply.js';

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
  | { readonly kind: 'rule'; readonly rule: string }
  /**
   * The reply just before this one refused `command` (4xx or 5xx): for the
   * I/O layer to report (stderr, JSON, the `--timeout` summary). Scripted
   * replies and the handler's verdicts are not reported here.
   */
  | { readonly kind: 'refused'; readonly command: string; readonly reply: Reply };

/** The channel's state, smtpd's `smtp_state` plus the states smtpd had no name for. */
export type ChannelStateName = 'command' | 'data' | 'bdat' | 'auth' | 'starttls' | 'awaiting-verdict' | 'closed';
