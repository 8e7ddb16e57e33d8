/**
 * The protocol lint: what a sender did wrong, found in one message. Pure and
 * synchronous, one small function per rule. Byte-level rules read the raw
 * bytes with indexOf hops and node:buffer's isAscii; header rules read a
 * light scan of the header block (header-scan.ts), so a 32 MiB message costs
 * a few linear passes and no parse.
 */
import { isAscii } from 'node:buffer';
import type { ChannelMessage } from '../channel/actions.js';
import { quote, type Finding } from './findings.js';
import { findHeader, headerIsAscii, headerValue, scanHeaders, type HeaderBlock } from './header-scan.js';
import { mailboxAddresses } from './mailbox.js';
import { undeclaredCharsets } from './mime-parts.js';

/** Longest line allowed, CRLF excluded (RFC 5322 2.1.1, RFC 5321 4.5.3.1.6). */
export const MAX_LINE_OCTETS = 998;

/** What every rule reads: the message, its header block scanned once, and its From header read once. */
interface LintInput {
  readonly message: ChannelMessage;
  readonly block: HeaderBlock;
  /** The From header's value and its addresses (null: not a mailbox list), or null without a From header. */
  readonly from: { readonly value: string; readonly addresses: string[] | null } | null;
}

type Rule = (input: LintInput) => Finding | undefined;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function hasMailOption(message: ChannelMessage, option: string): boolean {
  return message.mailOptions.includes(option);
}

/** Bare CR or LF: RFC 5321 2.3.8 allows CR and LF only together. */
const bareLineEndings: Rule = ({ message }) => {
  const { cr, lf } = message.bareLineEndings;
  if (cr === 0 && lf === 0) return undefined;
  const what = [lf > 0 ? plural(lf, 'bare LF') : '', cr > 0 ? plural(cr, 'bare CR') : ''].filter(Boolean).join(' and ');
  return { code: 'bare-line-ending', severity: 'error', message: `${what}: lines must end with CRLF (RFC 5321 2.3.8)` };
};

/** BODY=BINARYMIME (RFC 3030 3) lifts the 7-bit and line length rules. */
function isBinaryMime(message: ChannelMessage): boolean {
  return hasMailOption(message, 'BODY=BINARYMIME');
}

/** Lines over 998 octets (RFC 5322 2.1.1); hops from LF to LF. */
const longLines: Rule = ({ message }) => {
  if (isBinaryMime(message)) return undefined;
  const data = message.data;
  let count = 0;
  let first = 0;
  let firstLength = 0;
  let line = 0;
  for (let start = 0; start < data.length;) {
    const lf = data.indexOf(0x0a, start);
    const end = lf < 0 ? data.length : lf;
    const length = end - start - (lf >= 0 && end > start && data[end - 1] === 0x0d ? 1 : 0);
    line++;
    if (length > MAX_LINE_OCTETS) {
      if (count === 0) [first, firstLength] = [line, length];
      count++;
    }
    if (lf < 0) break;
    start = lf + 1;
  }
  if (count === 0) return undefined;
  return {
    code: 'line-too-long',
    severity: 'error',
    message: `${plural(count, 'line')} over ${MAX_LINE_OCTETS} octets, the first is line ${first} (${firstLength} octets) (RFC 5322 2.1.1)`,
  };
};

/** The line (1-based) of the first byte over 0x7f. */
function firstEightBitLine(data: Buffer): number {
  let i = 0;
  while (i < data.length && data[i]! < 0x80) i++;
  let line = 1;
  for (let at = data.indexOf(0x0a); at >= 0 && at < i; at = data.indexOf(0x0a, at + 1)) line++;
  return line;
}

/** 8-bit bytes need BODY=8BITMIME (RFC 6152 3); a 7-bit receiver may strip the high bit. */
const eightBitWithout8BitMime: Rule = ({ message }) => {
  if (hasMailOption(message, 'BODY=8BITMIME') || isBinaryMime(message) || isAscii(message.data)) return undefined;
  return {
    code: '8bit-without-8bitmime',
    severity: 'error',
    message: `8-bit data (first in line ${firstEightBitLine(message.data)}) but MAIL FROM has no BODY=8BITMIME (RFC 6152 3)`,
  };
};

/** Non-ASCII envelope addresses need the SMTPUTF8 parameter (RFC 6531 3.4). */
const utf8AddressWithoutSmtputf8: Rule = ({ message }) => {
  if (hasMailOption(message, 'SMTPUTF8')) return undefined;
  const address = [message.mailFrom, ...message.rcptTos].find((a) => /[^\x00-\x7f]/.test(a));
  if (address === undefined) return undefined;
  return {
    code: 'utf8-address-without-smtputf8',
    severity: 'error',
    message: `non-ASCII envelope address ${quote(address)} but MAIL FROM has no SMTPUTF8 (RFC 6531 3.4)`,
  };
};

/** A header every message must (or should) have, RFC 5322 3.6. */
function required(key: string, name: string, code: Finding['code'], severity: Finding['severity'], why: string): Rule {
  return ({ block }) =>
    findHeader(block, key) ? undefined : { code, severity, message: `no ${name} header (${why})` };
}

const missingFrom = required('from', 'From', 'missing-from', 'error', 'RFC 5322 3.6: required');
const missingDate = required('date', 'Date', 'missing-date', 'error', 'RFC 5322 3.6: required');
const missingMessageId = required(
  'message-id',
  'Message-ID',
  'missing-message-id',
  'warning',
  'RFC 5322 3.6.4: should be present',
);

/** A From header must be a mailbox list (RFC 5322 3.6.2). */
const badFrom: Rule = ({ from }) => {
  if (!from || from.addresses !== null) return undefined;
  const value = from.value;
  return {
    code: 'bad-from',
    severity: 'error',
    message: `the From header ${quote(value)} is not a mailbox list (RFC 5322 3.6.2)`,
  };
};

/**
 * Header fields are US-ASCII; other text goes in encoded words (RFC 2047).
 * Raw UTF-8 is allowed only in an SMTPUTF8 transaction (RFC 6532 3.2).
 */
const unencodedHeaders: Rule = ({ message, block }) => {
  if (hasMailOption(message, 'SMTPUTF8')) return undefined;
  const names = [...new Set(block.headers.filter((h) => !headerIsAscii(message.data, h)).map((h) => h.name))];
  if (names.length === 0) return undefined;
  return {
    code: 'unencoded-header',
    severity: 'error',
    message: `8-bit text in ${names.map((n) => quote(n)).join(', ')} not encoded as RFC 2047 encoded words (RFC 5322 2.2; raw UTF-8 only with SMTPUTF8, RFC 6532)`,
  };
};

/** An 8-bit text part without a charset parameter is read as US-ASCII (RFC 2045 5.2), so receivers guess. */
const undeclaredCharset: Rule = ({ message, block }) => {
  if (isAscii(message.data.subarray(block.bodyStart))) return undefined;
  const parts = undeclaredCharsets(message.data, block);
  if (parts.length === 0) return undefined;
  const first = parts[0]!;
  const more = parts.length > 1 ? ` and ${plural(parts.length - 1, 'more part')}` : '';
  return {
    code: 'undeclared-charset',
    severity: 'warning',
    message: `8-bit ${first.mime} in ${first.part}${more} without a charset parameter (RFC 2045 5.2: read as us-ascii)`,
  };
};

/** The envelope sender is not in the From header: normal for lists and bounces, a surprise elsewhere. */
const envelopeFromMismatch: Rule = ({ message, from }) => {
  if (!from || message.mailFrom === '<>' || message.mailFrom === '') return undefined;
  const addresses = from.addresses;
  if (addresses === null || addresses.includes(message.mailFrom.toLowerCase())) return undefined;
  return {
    code: 'envelope-from-mismatch',
    severity: 'note',
    message: `envelope sender ${quote(message.mailFrom)} is not in the From header (${addresses.map(quote).join(', ')})`,
  };
};

/** Every rule, in the order its findings are listed (and `--strict` names the first error). */
export const RULES: readonly Rule[] = [
  bareLineEndings,
  longLines,
  eightBitWithout8BitMime,
  utf8AddressWithoutSmtputf8,
  missingFrom,
  missingDate,
  missingMessageId,
  badFrom,
  unencodedHeaders,
  undeclaredCharset,
  envelopeFromMismatch,
];

/** The findings for one message, in RULES order. */
export function lintMessage(message: ChannelMessage): Finding[] {
  const block = scanHeaders(message.data);
  const fromHeader = findHeader(block, 'from');
  const value = fromHeader ? headerValue(message.data, fromHeader) : null;
  const from = value === null ? null : { value, addresses: mailboxAddresses(value) };
  const input: LintInput = { message, block, from };
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const finding = rule(input);
    if (finding) findings.push(finding);
  }
  return findings;
}
