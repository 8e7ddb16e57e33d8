/**
 * The message sendmail submits, from what it read: the input up to a line
 * of a single dot (without -i), the recipients of -t removed from nothing
 * but Bcc, and the headers an MTA's submission adds when they are missing
 * (From, Date, Message-ID: RFC 6409 8.1 to 8.3), so the sink shows what a
 * real sendmail would have delivered. Pure.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { lineAt } from '../../header-block.js';
import { formatAddress } from '../../printers/parsed.js';
import type { SendmailArgs } from './sendmail-args.js';

export interface Submission {
  readonly mailFrom: string;
  readonly rcptTos: readonly string[];
  /** The message, with CRLF line endings. */
  readonly data: Buffer;
}

/** What the submission needs to know about where it runs. */
export interface Origin {
  readonly user: string;
  readonly hostname: string;
  readonly now: Date;
  /** A unique token for a Message-ID. */
  readonly unique: string;
}

/** The input up to a line holding a single dot (sendmail's end of input without -i). */
function upToDot(input: Buffer): Buffer {
  for (let pos = 0; pos < input.length;) {
    const { contentEnd, next } = lineAt(input, pos, input.length);
    if (contentEnd - pos === 1 && input[pos] === 0x2e) return input.subarray(0, pos);
    pos = next;
  }
  return input;
}

/**
 * Where the header ends and the body starts: at the first empty line, or,
 * as sendmail reads `echo hello | sendmail`, at the first line that is no
 * header field (that line is the body's first).
 */
function headerSection(text: Buffer): { headEnd: number; bodyStart: number } {
  for (let pos = 0, first = true; pos < text.length; first = false) {
    const { contentEnd, next } = lineAt(text, pos, text.length);
    if (contentEnd === pos) return { headEnd: pos, bodyStart: next };
    const line = text.subarray(pos, contentEnd).toString('latin1');
    const field = /^[!-9;-~]+:/.test(line) || (!first && /^[ \t]/.test(line));
    if (!field) return { headEnd: pos, bodyStart: pos };
    pos = next;
  }
  return { headEnd: text.length, bodyStart: text.length };
}

/** The header fields of `head` (text up to the empty line), unfolded, in order. */
function fields(head: string): { name: string; value: string; raw: string }[] {
  const out: { name: string; value: string; raw: string }[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (line === '') continue;
    const last = out.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last.value += ` ${line.trim()}`;
      last.raw += `\r\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    out.push({
      name: colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase(),
      value: line.slice(colon + 1).trim(),
      raw: line,
    });
  }
  return out;
}

/** The addresses in header values (To, Cc, Bcc), groups flattened. */
function addresses(values: readonly string[]): string[] {
  return values.flatMap((v) => addressparser(v, { flatten: true }).map((a) => a.address)).filter(Boolean);
}

/** An RFC 5322 date: `Tue, 01 Dec 2026 20:30:00 +0000`. */
function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export function buildSubmission(input: Buffer, args: SendmailArgs, origin: Origin): Submission {
  const text = args.ignoreDots ? input : upToDot(input);
  const { headEnd, bodyStart } = headerSection(text);
  // A bare CR is a line break to some readers and not to others: in the header it would smuggle in a
  // field (a Bcc that changes the envelope), so it is a space here, as RFC 5322 allows no bare CR.
  const head = text
    .subarray(0, headEnd)
    .toString('latin1')
    .replace(/\r(?!\n)/g, ' ');
  const body = text.subarray(bodyStart);
  let parsed = fields(head);
  const values = (name: string) => parsed.filter((f) => f.name === name).map((f) => f.value);
  const fromHeader = addresses(values('from'))[0];
  const mailFrom = args.sender ?? fromHeader ?? `${origin.user}@${origin.hostname}`;
  const rcptTos = [...args.recipients];
  if (args.readRecipients) {
    rcptTos.push(...addresses([...values('to'), ...values('cc'), ...values('bcc')]));
    parsed = parsed.filter((f) => f.name !== 'bcc');
  }
  const added: string[] = [];
  if (values('from').length === 0) {
    const sender = args.sender ?? `${origin.user}@${origin.hostname}`;
    added.push(`From: ${formatAddress({ name: args.fullName ?? '', address: sender })}`);
  }
  if (values('date').length === 0) added.push(`Date: ${rfc5322Date(origin.now)}`);
  if (values('message-id').length === 0) added.push(`Message-ID: <${origin.unique}@${origin.hostname}>`);
  const headLines = [...parsed.map((f) => f.raw), ...added];
  const header = Buffer.from(headLines.map((l) => `${l}\r\n`).join(''), 'latin1');
  // Line endings become CRLF on the way (the SMTP client normalises bare LFs).
  return { mailFrom, rcptTos: [...new Set(rcptTos)], data: Buffer.concat([header, Buffer.from('\r\n'), body]) };
}
