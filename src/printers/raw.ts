/**
 * DebuggingServer's output, line for line as Python 3.11 smtpd prints it
 * (`DebuggingServer.process_message`), but as text: smtpd printed each line
 * as a Python bytes repr (`b'Subject: hi'`); we decode UTF-8 (invalid bytes
 * become U+FFFD) and show control characters as `\xHH`.
 */
import type { Message } from '../message.js';
import { lintBlock } from './lint-block.js';
import type { PrintContext } from './printer.js';
import { PLAIN, type Style } from './style.js';
import { terminalSafe } from './terminal-safe.js';

export const MESSAGE_FOLLOWS = '---------- MESSAGE FOLLOWS ----------';
export const END_MESSAGE = '------------ END MESSAGE ------------';

/** Python's repr() of a list of ASCII option strings: `['BODY=8BITMIME', 'SIZE=10']`. */
function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${terminalSafe(i).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/**
 * The lines smtpd printed before the message: the MAIL and RCPT parameters,
 * each only when there are any.
 */
export function optionLines(message: Message): string[] {
  const out: string[] = [];
  if (message.mailOptions.length > 0) out.push(`mail options: ${pyList(message.mailOptions)}`);
  // smtpd's format string ends this line with an extra '\n'.
  if (message.rcptOptions.length > 0) out.push(`rcpt options: ${pyList(message.rcptOptions)}\n`);
  return out;
}

/**
 * A terminal-safe header line with its name (and, for Subject, its value)
 * styled; continuation lines and lines without a name are left as they are.
 */
export function styleHeaderLine(safeLine: string, style: Style): string {
  if (style === PLAIN) return safeLine;
  const colon = safeLine.indexOf(':');
  if (colon <= 0 || safeLine[0] === ' ' || safeLine[0] === '\t') return safeLine;
  const name = safeLine.slice(0, colon);
  const value = safeLine.slice(colon + 1);
  return `${style.headerName(name)}:${name.toLowerCase() === 'subject' ? style.subject(value) : value}`;
}

/**
 * The message as text with smtpd's line breaks: smtpd's data had no final
 * line ending, and bytes.splitlines() splits on CRLF, CR or LF and gives no
 * empty piece after a final break. Returned joined by LF, so that a 10 MiB
 * body is never split into a hundred thousand strings.
 */
function messageText(data: Buffer): string | undefined {
  let end = data.length;
  if (end >= 2 && data[end - 2] === 0x0d && data[end - 1] === 0x0a) end -= 2;
  if (end === 0) return undefined;
  let text = data.toString('utf8', 0, end);
  // replaceAll with a plain string is several times faster than a regex here.
  if (text.includes('\r')) text = text.replaceAll('\r\n', '\n');
  if (text.includes('\r')) text = text.replaceAll('\r', '\n');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * Splits the text at smtpd's first empty line: the header lines before it,
 * and the text after it (null when the empty line is the last line, or when
 * there is no empty line at all: then `sawEmpty` is false).
 */
function splitAtEmptyLine(text: string): { head: string | null; body: string | null; sawEmpty: boolean } {
  if (text === '' || text[0] === '\n') return { head: null, body: text === '' ? null : text.slice(1), sawEmpty: true };
  const i = text.indexOf('\n\n');
  if (i >= 0) return { head: text.slice(0, i), body: text.slice(i + 2), sawEmpty: true };
  if (text.endsWith('\n')) return { head: text.slice(0, -1), body: null, sawEmpty: true };
  return { head: text, body: null, sawEmpty: false };
}

/**
 * The lines before the body: the framing, the options, the header lines
 * (styled, terminal-safe) and, at smtpd's first empty line, X-Peer and the
 * empty line itself (not in `headersOnly` mode).
 */
export function headLines(
  message: Message,
  head: string | null,
  sawEmpty: boolean,
  headersOnly: boolean,
  style: Style,
): string[] {
  const out: string[] = [style.frame(MESSAGE_FOLLOWS), ...optionLines(message)];
  if (head !== null) for (const line of head.split('\n')) out.push(styleHeaderLine(terminalSafe(line), style));
  if (sawEmpty) {
    // smtpd adds X-Peer at the first empty line, so a message without a
    // body separator gets none.
    out.push(styleHeaderLine(`X-Peer: ${terminalSafe(message.peer.address)}`, style));
    if (!headersOnly) out.push('');
  }
  return out;
}

/** One message in DebuggingServer's framing; `headersOnly` stops at the end of the header block. */
export function frame(message: Message, headersOnly: boolean, style: Style = PLAIN): string {
  const text = messageText(message.data);
  const { head, body, sawEmpty } =
    text === undefined ? { head: null, body: null, sawEmpty: false } : splitAtEmptyLine(text);
  const out =
    text === undefined
      ? [style.frame(MESSAGE_FOLLOWS), ...optionLines(message)]
      : headLines(message, head, sawEmpty, headersOnly, style);
  // The body is escaped as one string: LF separates its lines.
  if (sawEmpty && !headersOnly && body !== null) out.push(terminalSafe(body, true));
  out.push(style.frame(END_MESSAGE));
  return out.join('\n') + '\n';
}

/** The `raw` format: DebuggingServer's framing around the whole message, then any lint findings. */
export function printRaw(message: Message, context: PrintContext = {}): string {
  return frame(message, false, context.style) + lintBlock(context.lint);
}

/**
 * The line human formats write after a message when another output failed:
 * the client got 451 (or, when a `--workers` worker died, no reply) and may
 * send it again, so the message above was not accepted. `reason` names the
 * reply and why: `451: cannot write to …`.
 */
export function withdrawalLine(reason: string, style: Style = PLAIN): string {
  return `${style.frame(`---------- MESSAGE ABOVE NOT ACCEPTED (${terminalSafe(reason)}) ----------`)}\n`;
}
