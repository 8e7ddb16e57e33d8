/**
 * The messages the load generator sends, built once per size: exactly
 * `size` bytes of message data ending in CRLF, no line starting with a dot
 * (so the bytes on the wire are the message plus `.CRLF`).
 *
 * Small messages are text/plain, as a notification email is. Large ones
 * (over 64 KiB) are what a large email usually is: a short text part and a
 * base64 attachment, so a parsing format (`-f json`) does real MIME work.
 */

const CRLF = '\r\n';
/** Line length of the filler: 76 characters, as base64 in MIME (RFC 2045 6.8). */
const LINE = 76;
const TEXT_LARGE_THRESHOLD = 64 * 1024;

export const ENVELOPE = { from: 'sender@bench.example', to: 'rcpt@bench.example' } as const;

/** `n` bytes of CRLF-terminated lines made of `alphabet`, none starting with a dot. */
function filler(n: number, alphabet: string): string {
  if (n < 2) throw new Error(`cannot fill ${n} bytes with CRLF-terminated lines`);
  const full = LINE + 2;
  let count = Math.floor(n / full);
  let last = n % full;
  // A 1-byte remainder cannot be a line: lengthen the last full line by one instead.
  let longLine = false;
  if (last === 1) {
    count -= 1;
    last = 0;
    longLine = true;
  }
  const pattern = alphabet.repeat(Math.ceil((LINE + 1) / alphabet.length) + 1);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = i % alphabet.length;
    lines.push(pattern.slice(start, start + LINE) + CRLF);
  }
  if (longLine) lines.push(pattern.slice(0, LINE + 1) + CRLF);
  if (last > 0) lines.push(pattern.slice(0, last - 2) + CRLF);
  return lines.join('');
}

const TEXT = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ';
const BASE64 = 'QmVuY2htYXJrIGF0dGFjaG1lbnQgZGF0YSwgcmVwZWF0ZWQgdG8gZmlsbCB0aGUgbWVzc2FnZS4K';

function headers(subject: string, contentType: string): string {
  return (
    `From: Bench Sender <${ENVELOPE.from}>${CRLF}` +
    `To: Bench Recipient <${ENVELOPE.to}>${CRLF}` +
    `Subject: ${subject}${CRLF}` +
    `Date: Mon, 03 Nov 2025 10:00:00 +0000${CRLF}` +
    `Message-ID: <bench.${subject.length}@bench.example>${CRLF}` +
    `MIME-Version: 1.0${CRLF}` +
    `Content-Type: ${contentType}${CRLF}`
  );
}

/** The message data (what DATA carries, before the terminating `.CRLF`), exactly `size` bytes. */
export function makeMessage(size: number): Buffer {
  let text: string;
  if (size <= TEXT_LARGE_THRESHOLD) {
    const head = headers(`Bench message of ${size} bytes`, 'text/plain; charset=us-ascii') + CRLF;
    text = head + filler(size - head.length, TEXT);
  } else {
    const boundary = 'bench-boundary-0123456789';
    const head =
      headers(`Bench message of ${size} bytes`, `multipart/mixed; boundary="${boundary}"`) +
      CRLF +
      `--${boundary}${CRLF}Content-Type: text/plain; charset=us-ascii${CRLF}${CRLF}` +
      `See the attached file.${CRLF}` +
      `--${boundary}${CRLF}Content-Type: application/octet-stream${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}Content-Disposition: attachment; filename="data.bin"${CRLF}${CRLF}`;
    const tail = `--${boundary}--${CRLF}`;
    // Whole base64 lines; the remainder goes into the epilogue after the closing boundary.
    const room = size - head.length - tail.length;
    const lines = Math.floor((room - 2) / (LINE + 2));
    text = head + filler(lines * (LINE + 2), BASE64) + tail + filler(room - lines * (LINE + 2), TEXT);
  }
  const data = Buffer.from(text, 'latin1');
  if (data.length !== size) throw new Error(`built ${data.length} bytes for a ${size}-byte message`);
  return data;
}

/** The message as sent after 354: data plus the end-of-data line. */
export function wireMessage(size: number): Buffer {
  return Buffer.concat([makeMessage(size), Buffer.from('.\r\n', 'latin1')]);
}
