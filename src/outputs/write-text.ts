import { slices } from '../slices.js';

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
 * The parts cut into pieces of at most PIECE characters or bytes (slices.ts),
 * so that no one write holds the event loop: the JSON of a 30 MiB message of
 * escapes is one 180 MB part.
 */
export function pieces(parts: readonly (string | Uint8Array)[]): (string | Uint8Array)[] {
  return [...slices(parts, PIECE)];
}
