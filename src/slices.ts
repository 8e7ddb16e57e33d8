/**
 * Text and bytes cut into slices of a bounded size, so that no one step of
 * writing, encoding or sending a large message holds the event loop: views
 * of a buffer (no copy), and strings cut between characters, never inside a
 * surrogate pair (each slice may be encoded on its own). Used by the
 * outputs, the Maildir, the relay and the inbox's JSON.
 */

/** Each part in slices of at most `size` characters or bytes, in order; empty parts give none. */
export function* slices<T extends string | Uint8Array>(parts: Iterable<T>, size: number): Generator<T> {
  for (const part of parts) {
    if (typeof part !== 'string') {
      for (let at = 0; at < part.length; at += size) yield part.subarray(at, at + size) as T;
      continue;
    }
    for (let at = 0; at < part.length;) {
      let end = Math.min(at + size, part.length);
      const last = part.charCodeAt(end - 1);
      if (end < part.length && last >= 0xd800 && last <= 0xdbff) end--;
      yield part.slice(at, end) as T;
      at = end;
    }
  }
}
