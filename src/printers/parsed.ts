/**
 * The `parsed` format: the message as a person reads it, decoded (encoded
 * words, quoted-printable, base64, any charset), in DebuggingServer's
 * framing. Attachments are listed with their SHA-256, never shown. A message
 * that could not be parsed is shown as `raw` shows it.
 */
import type { Message } from '../message.js';
import type { ParsedAddress, ParsedMessage } from './parse-message.js';
import { lintBlock } from './lint-block.js';
import type { PrintContext } from './printer.js';
import { END_MESSAGE, MESSAGE_FOLLOWS, optionLines, printRaw, styleHeaderLine } from './raw.js';
import { PLAIN } from './style.js';
import { terminalSafe } from './terminal-safe.js';

/** `"Name" <address>`, or the bare address when there is no name. */
export function formatAddress(a: ParsedAddress): string {
  if (a.name === '') return a.address;
  // Letters in any script, digits, spaces and RFC 5322 atext need no quotes.
  const name = /^[\p{L}\p{N} !#$%&'*+/=?^_`{|}~.-]*$/u.test(a.name) ? a.name : `"${a.name.replace(/["\\]/g, '\\$&')}"`;
  return a.address === '' ? name : `${name} <${a.address}>`;
}

function byteSize(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** The summary lines, body and attachment list of a parsed message. */
function parsedLines(message: Message, parsed: ParsedMessage): string[] {
  const fields: [string, string | null][] = [
    ['From', parsed.from.map(formatAddress).join(', ')],
    ['To', parsed.to.map(formatAddress).join(', ')],
    ['Cc', parsed.cc.map(formatAddress).join(', ')],
    ['Bcc', parsed.bcc.map(formatAddress).join(', ')],
    ['Subject', parsed.subject],
    // As written (with its zone); JSON has it as ISO 8601.
    ['Date', parsed.headers.find((h) => h.name.toLowerCase() === 'date')?.value ?? null],
    ['Message-ID', parsed.messageId],
    ['X-Peer', message.peer.address],
    ['TLS', message.tls ? `${message.tls.protocol} ${message.tls.cipher}` : null],
    ['Auth-User', message.authUser ?? null],
  ];
  const out: string[] = [];
  for (const [name, value] of fields) if (value) out.push(`${name}: ${terminalSafe(value)}`);
  out.push('');
  const text = parsed.text ?? '';
  if (text.trim() === '') out.push('(no text body)');
  // One string with its LFs, not one per line: a spread of 125,000 lines into push() overflows the stack.
  else out.push(terminalSafe(text.replace(/\r?\n$/, '').replaceAll('\r\n', '\n'), true));
  out.push('');
  out.push(parsed.html === null ? 'HTML body: none' : `HTML body: ${byteSize(Buffer.byteLength(parsed.html))}`);
  if (parsed.attachments.length === 0) out.push('Attachments: none');
  else out.push(`Attachments: ${parsed.attachments.length}`);
  parsed.attachments.forEach((a, i) => {
    const name = a.filename === null ? '(no name)' : terminalSafe(a.filename);
    out.push(`  ${i + 1}. ${name}  ${terminalSafe(a.contentType)}  ${byteSize(a.size)}  sha256:${a.sha256}`);
  });
  return out;
}

/** Prints the parsed message (then any lint findings), or the raw one when it could not be parsed. */
export function printParsed(message: Message, context: PrintContext = {}): string {
  const { parsed, style = PLAIN } = context;
  if (parsed === undefined) return printRaw(message, context);
  const lines = parsedLines(message, parsed);
  const blank = lines.indexOf('');
  const styled = lines.map((line, i) => (i < blank ? styleHeaderLine(line, style) : line));
  return (
    [style.frame(MESSAGE_FOLLOWS), ...optionLines(message), ...styled, style.frame(END_MESSAGE)].join('\n') +
    '\n' +
    lintBlock(context.lint)
  );
}
