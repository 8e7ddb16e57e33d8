/**
 * DebuggingServer's output, line for line as Python 3.11 smtpd prints it
 * (`DebuggingServer.process_message`), but as text: smtpd printed each line
 * as a Python bytes repr (`b'Subject: hi'`); we decode UTF-8 (invalid bytes
 * become U+FFFD) and show control characters as `\xHH`.
 */
import type { Message } from '../message.js';
import { terminalSafe } from './terminal-safe.js';

export const MESSAGE_FOLLOWS = '---------- MESSAGE FOLLOWS ----------';
export const END_MESSAGE = '------------ END MESSAGE ------------';

/** Python's repr() of a list of ASCII option strings: `['BODY=8BITMIME', 'SIZE=10']`. */
function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${terminalSafe(i).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/**
 * The message's lines as bytes.splitlines() gives them from smtpd's data,
 * which had no final line ending: split on CRLF, CR or LF.
 */
export function messageLines(data: Buffer): string[] {
  let end = data.length;
  if (end >= 2 && data[end - 2] === 0x0d && data[end - 1] === 0x0a) end -= 2;
  if (end === 0) return [];
  return data.toString('utf8', 0, end).split(/\r\n|\r|\n/);
}

/** One message in DebuggingServer's framing; `headersOnly` stops at the end of the header block. */
export function frame(message: Message, headersOnly: boolean): string {
  const out: string[] = [MESSAGE_FOLLOWS];
  if (message.mailOptions.length > 0) out.push(`mail options: ${pyList(message.mailOptions)}`);
  // smtpd's format string ends this line with an extra '\n'.
  if (message.rcptOptions.length > 0) out.push(`rcpt options: ${pyList(message.rcptOptions)}\n`);
  let inHeaders = true;
  for (const line of messageLines(message.data)) {
    if (inHeaders && line === '') {
      // smtpd adds X-Peer at the first empty line, so a message without a
      // body separator gets none.
      out.push(`X-Peer: ${terminalSafe(message.peer.address)}`);
      inHeaders = false;
      if (headersOnly) break;
    }
    out.push(terminalSafe(line));
  }
  out.push(END_MESSAGE);
  return out.join('\n') + '\n';
}

/** The `raw` format: DebuggingServer's framing around the whole message. */
export function printRaw(message: Message): string {
  return frame(message, false);
}
