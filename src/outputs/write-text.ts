/**
 * Writes text and resolves once the stream has taken it (the write callback),
 * so that a handler can promise "written" before the 250 goes out.
 */
export function writeText(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** Texts as one: a string when they all are, else one buffer; a single text is itself, not a copy. */
export function joinTexts(texts: readonly (string | Uint8Array)[]): string | Uint8Array {
  if (texts.length === 1) return texts[0]!;
  return texts.every((t) => typeof t === 'string')
    ? texts.join('')
    : Buffer.concat(texts.map((t) => (typeof t === 'string' ? Buffer.from(t) : t)));
}

/** How much of a text one write takes at most: a turn of the event loop comes between two. */
export const PIECE = 256 * 1024;

/**
 * The parts cut into pieces of at most PIECE characters or bytes (views of
 * a buffer, not copies), so that no one write holds the event loop: the
 * JSON of a 30 MiB message of escapes is one 180 MB part.
 */
export function pieces(parts: readonly (string | Uint8Array)[]): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  for (const part of parts) {
    if (part.length <= PIECE) out.push(part);
    else if (typeof part !== 'string')
      for (let at = 0; at < part.length; at += PIECE) out.push(part.subarray(at, at + PIECE));
    else
      for (let at = 0; at < part.length;) {
        let end = Math.min(at + PIECE, part.length);
        // A surrogate pair stays whole: each piece is encoded to UTF-8 on its own.
        if (end < part.length && /[\uD800-\uDBFF]/.test(part[end - 1]!)) end--;
        out.push(part.slice(at, end));
        at = end;
      }
  }
  return out;
}
