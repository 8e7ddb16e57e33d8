/**
 * Where a message's header block ends, decided once for every reader of raw
 * bytes (the lint's scan, the scripted rules' EOD subject, PureProxy's
 * X-Peer): at the first empty line (RFC 5322 2.1), a line ending in CRLF or,
 * since senders send them, a bare LF. The printers follow smtpd's own split
 * of the text instead, to print what DebuggingServer printed
 * (src/printers/raw.ts, raw-parts.ts).
 */

const LF = 0x0a;
const CR = 0x0d;

/** The line starting at `pos`: where its content ends (before its CR LF or LF) and where the next line starts. */
export function lineAt(data: Buffer, pos: number, end: number): { readonly contentEnd: number; readonly next: number } {
  const lf = data.indexOf(LF, pos);
  const lineEnd = lf < 0 || lf >= end ? end : lf;
  const contentEnd = lineEnd > pos && data[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  return { contentEnd, next: lineEnd === end ? end : lineEnd + 1 };
}

/**
 * The first empty line of `data[start, end)`: where it starts (the end of
 * the header block) and where the body after it starts; null when there is
 * none (the message is all header).
 */
export function headerBlockEnd(
  data: Buffer,
  start = 0,
  end = data.length,
): { readonly end: number; readonly bodyStart: number } | null {
  for (let pos = start; pos < end;) {
    const line = lineAt(data, pos, end);
    if (line.contentEnd === pos) return { end: pos, bodyStart: line.next };
    pos = line.next;
  }
  return null;
}

/**
 * The header fields of `data[0, end)`, in order, up to the first empty
 * line: each name as written, each value unfolded (a continuation line
 * trimmed and joined with one space, as Go's textproto does) and trimmed.
 * A line without a colon is skipped. For readers that need the fields'
 * values (the HTTP inbox's headers and MIME parts), not the bytes.
 */
export function unfoldedFields(
  data: Buffer,
  end: number,
  encoding: 'latin1' | 'utf8',
): { readonly name: string; value: string }[] {
  const out: { readonly name: string; value: string }[] = [];
  for (let pos = 0; pos < end;) {
    const line = lineAt(data, pos, end);
    const text = data.toString(encoding, pos, line.contentEnd);
    pos = line.next;
    if (text === '') break;
    const last = out.at(-1);
    if ((text[0] === ' ' || text[0] === '\t') && last) {
      last.value += ` ${text.trim()}`;
      continue;
    }
    const colon = text.indexOf(':');
    if (colon > 0) out.push({ name: text.slice(0, colon).trim(), value: text.slice(colon + 1).trim() });
  }
  return out;
}

/** The first value of each header field of `data[0, end)` (unfolded), by its name in lower case. */
export function firstFieldValues(data: Buffer, end: number, encoding: 'latin1' | 'utf8'): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name, value } of unfoldedFields(data, end, encoding)) {
    const key = name.toLowerCase();
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}
