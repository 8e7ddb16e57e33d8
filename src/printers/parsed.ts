/**
 * The `parsed` format: the message as a person reads it, decoded (encoded
 * words, quoted-printable, base64, any charset), in DebuggingServer's
 * framing. Attachments are listed with their SHA-256, never shown. A message
 * that could not be parsed is shown as `raw` shows it.
 */
import type { Message } from '../message.js';
import type { AttachmentSummary, ParsedAddress, ParsedMessage } from '../mime/parse-message.js';
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

/** A size as people read it: `812 bytes`, `4.0 KiB`, `10.0 MiB`. */
export function humanSize(n: number): string {
  if (n < 1024) return n === 1 ? '1 byte' : `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A part shown in the body (an image the HTML refers to): inline, or with a Content-ID and no disposition. */
function isInline(a: AttachmentSummary): boolean {
  return a.disposition === 'inline' || (a.disposition === null && a.contentId !== null);
}

function partLine(a: AttachmentSummary, n: number): string {
  const name = a.filename === null ? '(no name)' : terminalSafe(a.filename);
  const cid = a.contentId === null ? '' : `  cid:${terminalSafe(a.contentId.replace(/^<|>$/g, ''))}`;
  return `  ${n}. ${name}  ${terminalSafe(a.contentType)}  ${humanSize(a.size)}${cid}  sha256:${a.sha256}`;
}

/** A header's value as written (the first, unfolded), or null. */
function header(parsed: ParsedMessage, name: string): string | null {
  return parsed.headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
}

/** The summary lines, body and attachment list of a parsed message. */
function parsedLines(message: Message, parsed: ParsedMessage): string[] {
  const fields: [string, string | null][] = [
    ['From', parsed.from.map(formatAddress).join(', ')],
    ['To', parsed.to.map(formatAddress).join(', ')],
    ['Cc', parsed.cc.map(formatAddress).join(', ')],
    ['Bcc', parsed.bcc.map(formatAddress).join(', ')],
    ['Reply-To', header(parsed, 'reply-to')],
    ['Subject', parsed.subject],
    // As written (with its zone); JSON has it as ISO 8601.
    ['Date', header(parsed, 'date')],
    ['Message-ID', parsed.messageId],
    ['List-Unsubscribe', header(parsed, 'list-unsubscribe')],
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
  out.push(
    parsed.html === null
      ? 'HTML body: none'
      : `HTML body: ${humanSize(Buffer.byteLength(parsed.html))} (--http previews it; -f json has it whole)`,
  );
  // Numbered as in the JSON's attachments array, inline parts listed apart.
  const numbered = parsed.attachments.map((a, i) => [a, i + 1] as const);
  const inline = numbered.filter(([a]) => isInline(a));
  const attached = numbered.filter(([a]) => !isInline(a));
  if (inline.length > 0) out.push(`Inline parts: ${inline.length}`, ...inline.map(([a, n]) => partLine(a, n)));
  out.push(attached.length === 0 ? 'Attachments: none' : `Attachments: ${attached.length}`);
  out.push(...attached.map(([a, n]) => partLine(a, n)));
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
