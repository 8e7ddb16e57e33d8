/**
 * Inputs for property tests and the fuzzer: arbitrary bytes, and byte strings
 * built from SMTP fragments so that random input reaches deep states (DATA,
 * pipelining, limits) rather than dying at the first 500.
 */
import fc from 'fast-check';

const FRAGMENTS = [
  'HELO x',
  'EHLO client.test',
  'MAIL FROM:<a@example.test>',
  'MAIL FROM:<>',
  'RCPT TO:<b@example.test>',
  'MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME',
  'MAIL FROM:<a@b> SMTPUTF8',
  'RCPT TO:<c@d> NOTIFY=NEVER',
  'DATA',
  'RSET',
  'NOOP',
  'QUIT',
  'HELP',
  'HELP MAIL',
  'VRFY <u@x>',
  'EXPN x',
  '.',
  '..',
  '...x',
  'Subject: hi',
  '',
  'body',
  'x'.repeat(600),
  '\x1b[31m',
  'MAIL FROM:<"q x"@[1.2.3.4]>',
  'RCPT TO:<@r:u@x>',
  '\xff\xfe',
  'mail from:<A@B>',
  // The extensions: STARTTLS, AUTH and its answers, BDAT, LMTP, DSN, BINARYMIME.
  'STARTTLS',
  'AUTH PLAIN',
  'AUTH LOGIN dQ==',
  'AUTH CRAM-MD5',
  'AHUAcA==',
  'dSAwMA==',
  '*',
  '=',
  'BDAT 5',
  'BDAT 3 LAST',
  'BDAT 0 LAST',
  'BDAT 99999999',
  'LHLO x',
  'MAIL FROM:<a@b> BODY=BINARYMIME RET=FULL ENVID=x',
  'RCPT TO:<c@d> NOTIFY=SUCCESS ORCPT=rfc822;c@d',
];
const SEPARATORS = ['\r\n', '\r\n', '\r\n', '\n', '\r', ''];

/** A whole valid transaction, so that messages are completed often. */
const TRANSACTION = 'MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n..dot\r\n.\r\n';

/** A byte string of SMTP-ish fragments joined by CRLF and the odd bare CR/LF. */
export const smtpBytes: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.constantFrom('', 'EHLO x\r\n', 'HELO x\r\n'),
    fc.array(
      fc.tuple(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) },
          { weight: 2, arbitrary: fc.constant(TRANSACTION) },
          { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
        ),
        fc.constantFrom(...SEPARATORS),
      ),
      { maxLength: 40, size: 'max' },
    ),
  )
  .map(([greeting, parts]) => Buffer.from(greeting + parts.map(([f, s]) => f + s).join(''), 'latin1'));

/** Any bytes at all. */
export const anyBytes: fc.Arbitrary<Buffer> = fc
  .uint8Array({ maxLength: 2000, size: 'max' })
  .map((a) => Buffer.from(a));

/** Cuts `input` at the given (sorted, de-duplicated) offsets. */
export function cut(input: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(input.subarray(from, p));
    from = p;
  }
  chunks.push(input.subarray(from));
  return chunks;
}

/** A well-formed reply line: a code 2xx-5xx, then a space or dash and printable ASCII. */
export const REPLY_LINE = /^[2-5][0-9]{2}([ -][\x20-\x7e]*)?$/;
