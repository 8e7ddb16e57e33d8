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
 * The message's lines as bytes.splitlines() gives them from smtpd's data,
 * which had no final line ending: split on CRLF, CR or LF.
 */
export function messageLines(data: Buffer): string[] {
  let end = data.length;
  if (end >= 2 && data[end - 2] === 0x0d && data[end - 1] === 0x0a) end -= 2;
  if (end === 0) return [];
  const lines = data.toString('utf8', 0, end).split(/\r\n|\r|\n/);
  // splitlines() gives no empty piece after a final line break.
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** One message in DebuggingServer's framing; `headersOnly` stops at the end of the header block. */
export function frame(message: Message, headersOnly: boolean, style: Style = PLAIN): string {
  const out: string[] = [style.frame(MESSAGE_FOLLOWS), ...optionLines(message)];
  let inHeaders = true;
  for (const line of messageLines(message.data)) {
    if (inHeaders && line === '') {
      // smtpd adds X-Peer at the first empty line, so a message without a
      // body separator gets none.
      out.push(styleHeaderLine(`X-Peer: ${terminalSafe(message.peer.address)}`, style));
      inHeaders = false;
      if (headersOnly) break;
    }
    out.push(inHeaders ? styleHeaderLine(terminalSafe(line), style) : terminalSafe(line));
  }
  out.push(style.frame(END_MESSAGE));
  return out.join('\n') + '\n';
}

/** The `raw` format: DebuggingServer's framing around the whole message, then any lint findings. */
export function printRaw(message: Message, context: PrintContext = {}): string {
  return frame(message, false, context.style) + lintBlock(context.lint);
}
