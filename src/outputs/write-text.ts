/**
 * Writes text and resolves once the stream has taken it (the write callback),
 * so that a handler can promise "written" before the 250 goes out.
 */
export function writeText(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** Texts as one: a string when they all are, else one buffer. */
export function joinTexts(texts: readonly (string | Uint8Array)[]): string | Buffer {
  return texts.every((t) => typeof t === 'string')
    ? texts.join('')
    : Buffer.concat(texts.map((t) => (typeof t === 'string' ? Buffer.from(t) : t)));
}
