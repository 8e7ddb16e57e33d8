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
}

/** Builds a reply value. */
export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines: lines.length > 0 ? lines : [''] };
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

/** Every reply the channel gives, named `R<code>_<reason>`. */
export const R = {
  R221_BYE: reply(221, 'Bye'),
  R250_OK: reply(250, 'OK'),
  R252_CANNOT_VRFY: reply(252, 'Cannot VRFY user, but will accept message and attempt delivery'),
  R354_START_DATA: reply(354, 'End data with <CR><LF>.<CR><LF>'),
  /** Ours: `maxMessages` reached (smtpd had no such limit). */
  R421_TOO_MANY_MESSAGES: (host: string) => reply(421, `${host} Error: too many messages in this connection`),
  R451_HANDLER_FAILED: reply(451, 'Requested action aborted: error in processing'),
  /** Ours: RFC 5321 4.5.3.1.10's reply for one recipient too many. */
  R452_TOO_MANY_RECIPIENTS: reply(452, 'Error: too many recipients'),
  R500_BAD_SYNTAX: reply(500, 'Error: bad syntax'),
  /** Ours: smtpd raised UnicodeDecodeError and dropped the connection. */
  R500_NOT_UTF8: reply(500, 'Error: command line is not valid UTF-8'),
  R500_LINE_TOO_LONG: reply(500, 'Error: line too long'),
  R500_UNRECOGNIZED: (verb: string) => reply(500, `Error: command "${printable(verb)}" not recognized`),
  R501_HELO_SYNTAX: reply(501, 'Syntax: HELO hostname'),
  R501_EHLO_SYNTAX: reply(501, 'Syntax: EHLO hostname'),
  R501_NOOP_SYNTAX: reply(501, 'Syntax: NOOP'),
  R501_RSET_SYNTAX: reply(501, 'Syntax: RSET'),
  R501_DATA_SYNTAX: reply(501, 'Syntax: DATA'),
  R501_VRFY_SYNTAX: reply(501, 'Syntax: VRFY <address>'),
  R501_MAIL_SYNTAX: (extended: boolean) =>
    reply(501, `Syntax: MAIL FROM: <address>${extended ? ' [SP <mail-parameters>]' : ''}`),
  R501_RCPT_SYNTAX: (extended: boolean) =>
    reply(501, `Syntax: RCPT TO: <address>${extended ? ' [SP <mail-parameters>]' : ''}`),
  R501_BAD_BODY: reply(501, 'Error: BODY can only be one of 7BIT, 8BITMIME'),
  R501_SMTPUTF8_ARG: reply(501, 'Error: SMTPUTF8 takes no arguments'),
  R501_HELP_UNKNOWN: (commands: string) => reply(501, `Supported commands: ${commands}`),
  R502_EXPN: reply(502, 'EXPN not implemented'),
  R502_CANNOT_VRFY: (arg: string) => reply(502, `Could not VRFY ${printable(arg)}`),
  R503_DUPLICATE_HELO: reply(503, 'Duplicate HELO/EHLO'),
  R503_NEED_HELO: reply(503, 'Error: send HELO first'),
  R503_NESTED_MAIL: reply(503, 'Error: nested MAIL command'),
  R503_NEED_MAIL: reply(503, 'Error: need MAIL command'),
  R503_NEED_RCPT: reply(503, 'Error: need RCPT command'),
  /** Ours, with `bareLineEndings: 'reject'`. */
  R550_BARE_LINE_ENDING: reply(550, 'Error: bare CR or LF in message data; lines must end with CRLF (RFC 5321 2.3.8)'),
  R552_SIZE_EXCEEDED: reply(552, 'Error: message size exceeds fixed maximum message size'),
  R552_TOO_MUCH_DATA: reply(552, 'Error: Too much mail data'),
  R555_MAIL_PARAMS: reply(555, 'MAIL FROM parameters not recognized or not implemented'),
  R555_RCPT_PARAMS: reply(555, 'RCPT TO parameters not recognized or not implemented'),
} as const;
