/**
 * SMTP replies as values, and the one table that holds every reply the
 * channel can give. The texts are Python 3.11 smtpd's, so that the whole set
 * can be read side by side with `Lib/smtpd.py`; the few replies smtpd never
 * gave (it crashed or hung instead) are marked as ours.
 */

/** One SMTP reply: a three-digit code and one or more text lines. */
export interface Reply {
  readonly code: number;
  /** One entry per line; a multi-line reply uses `code-text` for all but the last. */
  readonly lines: readonly string[];
  /**
   * The RFC 3463 enhanced status code (`2.1.5`), sent before each line's text
   * only with ENHANCEDSTATUSCODES (see enhanced-codes.ts); `''` for replies
   * that never carry one (334 challenges, the EHLO capability list).
   */
  readonly enhanced?: string;
}

/** Builds a reply value. */
export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines: lines.length > 0 ? lines : [''] };
}

/** Builds a reply value with its enhanced status code (RFC 3463). */
export function ereply(enhanced: string, code: number, ...lines: string[]): Reply {
  return { ...reply(code, ...lines), enhanced };
}

/** Serialises a reply to its wire form, CRLF-terminated, multi-line aware. */
export function formatReply(r: Reply): string {
  const last = r.lines.length - 1;
  let out = '';
  for (let i = 0; i <= last; i++) {
    const text = r.lines[i]!;
    out += `${r.code}${i === last ? (text === '' ? '' : ' ') : '-'}${text}\r\n`;
  }
  return out;
}

/**
 * Parses a reply string as smtpd's `process_message` returns it
 * (`"550 No such user"`), so handlers can answer in smtpd's style.
 * Returns undefined when the string does not start with a 2xx-5xx code.
 */
export function parseReply(text: string): Reply | undefined {
  const m = /^([2-5][0-9][0-9])(?:[ -](.*))?$/s.exec(text.trim());
  if (!m) return undefined;
  const lines = (m[2] ?? '').split(/\r?\n/).map((l) => l.replace(/^[2-5][0-9][0-9][ -]?/, ''));
  return reply(Number(m[1]), ...lines.map(printable));
}

/**
 * Makes peer-supplied text safe to echo inside a reply: a CR or LF there
 * would let a client forge extra reply lines, and smtpd's ASCII-only push()
 * crashed on anything non-ASCII. Control and non-ASCII characters become
 * `\xHH` / `\uHHHH` escapes.
 */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
    return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
  });
}

/**
 * Whether a handler's verdict accepts the message: none (`250 OK`) or a
 * reply under 400. The one place this is decided.
 */
export function isAcceptance(verdict: Reply | undefined): boolean {
  return verdict === undefined || verdict.code < 400;
}

/**
 * What a handler may return after DATA: nothing (`250 OK`), a Reply, or a
 * reply string as smtpd's `process_message` returns it (`'550 No such user'`).
 */
export type Verdict = Reply | string | null | undefined | void;

/**
 * The reply a verdict gives the client: undefined for 250, the Reply, or
 * the string parsed; a string without a valid code is a 451 (the handler's
 * bug, never an acceptance). The server answers with it, and everything
 * that keeps a message only when it was accepted (the inbox, the database)
 * judges it with `isAcceptance(replyOf(verdict))`.
 */
export function replyOf(verdict: Verdict): Reply | undefined {
  if (verdict === undefined || verdict === null || verdict === '') return undefined;
  if (typeof verdict !== 'string') return verdict;
  return parseReply(verdict) ?? R.R451_HANDLER_FAILED;
}

/** Every reply the channel gives, named `R<code>_<reason>`. */
/** smtpd's syntax replies for MAIL and RCPT, after HELO (0) and after EHLO (1). */
const SYNTAX = {
  MAIL: [false, true].map((ext) =>
    ereply('5.5.4', 501, `Syntax: MAIL FROM: <address>${ext ? ' [SP <mail-parameters>]' : ''}`),
  ) as [Reply, Reply],
  RCPT: [false, true].map((ext) =>
    ereply('5.5.4', 501, `Syntax: RCPT TO: <address>${ext ? ' [SP <mail-parameters>]' : ''}`),
  ) as [Reply, Reply],
};

export const R = {
  /** The greeting; RFC 2034 section 4: it carries no enhanced code. */
  R220_GREETING: (host: string, banner: string) => ereply('', 220, `${host} ${banner}`),
  /** Ours: RFC 3207's go-ahead. */
  R220_READY_TLS: ereply('2.0.0', 220, 'Ready to start TLS'),
  R221_BYE: ereply('2.0.0', 221, 'Bye'),
  /** Ours: RFC 4954 section 6. */
  R235_AUTH_OK: ereply('2.7.0', 235, 'Authentication successful'),
  R250_OK: ereply('2.0.0', 250, 'OK'),
  /** The HELO reply and EHLO's capability list; RFC 2034 section 4: no enhanced code. */
  R250_HELO: (host: string) => ereply('', 250, host),
  R250_EHLO: (lines: readonly string[]) => ereply('', 250, ...lines),
  /** smtpd's `250 OK` to MAIL and RCPT, with RFC 3463's codes for them. */
  R250_MAIL_OK: ereply('2.1.0', 250, 'OK'),
  R250_RCPT_OK: ereply('2.1.5', 250, 'OK'),
  /** smtpd's `250 OK` after the data (the handler's default verdict). */
  R250_QUEUED: ereply('2.6.0', 250, 'OK'),
  /** Ours: RFC 3030's reply to a BDAT chunk that is not the last. */
  R250_CHUNK_OK: (size: number) => ereply('2.0.0', 250, `${size} octets received`),
  /** Ours: an AUTH challenge (RFC 4954 section 4); base64 text, never an enhanced code. */
  R334_CHALLENGE: (base64: string) => ereply('', 334, base64),
  R252_CANNOT_VRFY: ereply('2.5.0', 252, 'Cannot VRFY user, but will accept message and attempt delivery'),
  R354_START_DATA: ereply('', 354, 'End data with <CR><LF>.<CR><LF>'),
  /** Ours: `maxMessagesPerConnection` reached (smtpd had no such limit). */
  /** Ours: shutdown (SIGINT/SIGTERM, or the grace period over). */
  R421_SHUTDOWN: (host: string) => ereply('4.0.0', 421, `${host} Service closing transmission channel`),
  /** Ours: an RFC 5321 4.5.3.2 timeout. */
  R421_TIMEOUT: (host: string) => ereply('4.0.0', 421, `${host} Error: timeout exceeded`),
  /** Ours: --max-connections or --connection-rate, answered at the greeting (RFC 5321 3.1). */
  R421_TOO_MANY_CONNECTIONS: (host: string, why: string) =>
    ereply('4.7.0', 421, `${host} Error: ${why}, try again later`),
  R421_TOO_MANY_MESSAGES: (host: string) => ereply('4.7.0', 421, `${host} Error: too many messages in this connection`),
  R451_HANDLER_FAILED: ereply('4.3.0', 451, 'Requested action aborted: error in processing'),
  /** Ours: RFC 5321 4.5.3.1.10's reply for one recipient too many. */
  R452_TOO_MANY_RECIPIENTS: ereply('4.5.3', 452, 'Error: too many recipients'),
  R500_BAD_SYNTAX: ereply('5.5.2', 500, 'Error: bad syntax'),
  /** Ours: smtpd raised UnicodeDecodeError and dropped the connection. */
  R500_NOT_UTF8: ereply('5.5.2', 500, 'Error: command line is not valid UTF-8'),
  R500_LINE_TOO_LONG: ereply('5.5.2', 500, 'Error: line too long'),
  R500_UNRECOGNIZED: (verb: string) => ereply('5.5.1', 500, `Error: command "${printable(verb)}" not recognized`),
  /** Ours: a line after a refused AUTH may be a credential, so it is not echoed. */
  R500_UNRECOGNIZED_HIDDEN: ereply(
    '5.5.1',
    500,
    'Error: command not recognized (not echoed: sent after a refused AUTH)',
  ),
  R501_HELO_SYNTAX: ereply('5.5.4', 501, 'Syntax: HELO hostname'),
  R501_EHLO_SYNTAX: ereply('5.5.4', 501, 'Syntax: EHLO hostname'),
  R501_NOOP_SYNTAX: ereply('5.5.4', 501, 'Syntax: NOOP'),
  R501_RSET_SYNTAX: ereply('5.5.4', 501, 'Syntax: RSET'),
  R501_DATA_SYNTAX: ereply('5.5.4', 501, 'Syntax: DATA'),
  R501_VRFY_SYNTAX: ereply('5.5.4', 501, 'Syntax: VRFY <address>'),
  // Built once each: MAIL and RCPT keep them at hand for every command.
  R501_MAIL_SYNTAX: (extended: boolean) => SYNTAX.MAIL[extended ? 1 : 0],
  R501_RCPT_SYNTAX: (extended: boolean) => SYNTAX.RCPT[extended ? 1 : 0],
  R501_BAD_BODY: ereply('5.5.4', 501, 'Error: BODY can only be one of 7BIT, 8BITMIME'),
  R501_SMTPUTF8_ARG: ereply('5.5.4', 501, 'Error: SMTPUTF8 takes no arguments'),
  R501_HELP_UNKNOWN: (commands: string) => ereply('5.5.4', 501, `Supported commands: ${commands}`),
  /** Ours, for the extensions (RFC 3207, 4954, 3030, 3461). */
  R501_STARTTLS_SYNTAX: ereply('5.5.4', 501, 'Syntax: STARTTLS'),
  R501_AUTH_SYNTAX: ereply('5.5.4', 501, 'Syntax: AUTH mechanism [initial-response]'),
  R501_AUTH_CANCELLED: ereply('5.7.0', 501, 'Authentication cancelled'),
  R501_BAD_BASE64: ereply('5.5.2', 501, 'Error: invalid base64 or credentials format'),
  R501_BDAT_SYNTAX: ereply('5.5.4', 501, 'Syntax: BDAT chunk-size [LAST]'),
  R501_DSN_SYNTAX: (param: string) => ereply('5.5.4', 501, `Error: bad ${param} parameter (RFC 3461)`),
  R502_EXPN: ereply('5.5.1', 502, 'EXPN not implemented'),
  R502_CANNOT_VRFY: (arg: string) => ereply('5.5.1', 502, `Could not VRFY ${printable(arg)}`),
  R503_DUPLICATE_HELO: ereply('5.5.1', 503, 'Duplicate HELO/EHLO'),
  R503_NEED_HELO: ereply('5.5.1', 503, 'Error: send HELO first'),
  R503_NESTED_MAIL: ereply('5.5.1', 503, 'Error: nested MAIL command'),
  R503_NEED_MAIL: ereply('5.5.1', 503, 'Error: need MAIL command'),
  R503_NEED_RCPT: ereply('5.5.1', 503, 'Error: need RCPT command'),
  R503_ALREADY_AUTH: ereply('5.5.1', 503, 'Error: already authenticated'),
  R503_AUTH_IN_TRANSACTION: ereply('5.5.1', 503, 'Error: AUTH not permitted during a mail transaction'),
  R503_TLS_ACTIVE: ereply('5.5.1', 503, 'Error: TLS already active'),
  R503_BINARYMIME_NEEDS_BDAT: ereply('5.5.1', 503, 'Error: BODY=BINARYMIME requires BDAT'),
  R503_DATA_AFTER_BDAT: ereply('5.5.1', 503, 'Error: DATA after BDAT in one transaction'),
  R504_AUTH_MECHANISM: ereply('5.5.4', 504, 'Unrecognized authentication type'),
  R530_NEED_TLS: ereply('5.7.0', 530, 'Must issue a STARTTLS command first'),
  R530_NEED_AUTH: ereply('5.7.0', 530, 'Authentication required'),
  R535_AUTH_FAILED: ereply('5.7.8', 535, 'Authentication credentials invalid'),
  R538_NEED_ENCRYPTION: ereply('5.7.11', 538, 'Encryption required for requested authentication mechanism'),
  /** Ours, with `bareLf: 'reject'`. */
  /** Ours: the relay policy (src/relay/policy.ts) refuses a recipient; the class code, as before the table held it. */
  R550_RELAY_DENIED: ereply('5.0.0', 550, 'Error: relay access denied'),
  R550_RELAY_DOMAIN: ereply('5.0.0', 550, 'Error: relaying to this domain is not allowed'),
  /** Ours: `--strict` refuses a message (src/lint/strict.ts); `finding` is printable ASCII. */
  R550_STRICT: (finding: string) => ereply('5.0.0', 550, `Error: message rejected by --strict: ${finding}`),
  R550_BARE_LINE_ENDING: ereply(
    '5.6.0',
    550,
    'Error: bare CR or LF in message data; lines must end with CRLF (RFC 5321 2.3.8)',
  ),
  R552_SIZE_EXCEEDED: ereply('5.3.4', 552, 'Error: message size exceeds fixed maximum message size'),
  R552_TOO_MUCH_DATA: ereply('5.3.4', 552, 'Error: Too much mail data'),
  R555_MAIL_PARAMS: ereply('5.5.4', 555, 'MAIL FROM parameters not recognized or not implemented'),
  R555_RCPT_PARAMS: ereply('5.5.4', 555, 'RCPT TO parameters not recognized or not implemented'),
} as const;
