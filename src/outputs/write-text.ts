/**
 * Writes text and resolves once the stream has taken it (the write callback),
 * so that a handler can promise "written" before the 250 goes out.
 */
export function writeText(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
