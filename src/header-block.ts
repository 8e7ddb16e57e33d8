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
