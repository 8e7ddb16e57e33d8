/**
 * Mail is untrusted input: an ESC in a header can recolour, retitle or
 * rewrite a terminal (OSC 52 even writes the clipboard), and a bidi override
 * (U+202E) makes text read differently from what it is (CVE-2021-42574).
 * Every human format, and every stderr line that carries peer data, passes
 * text through here (and JSON lines through `jsonSafe`): C0 controls (but tab), DEL and C1 controls become
 * visible `\xHH` escapes, the bidi embeddings, overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069) become `\uHHHH`.
 *
 * The work is done on UTF-8 bytes in one linear pass, with no callback or
 * string per escape: 30 MiB of ESC bytes takes a fraction of a second, not
 * nine, and the output is allocated once.
 */

/** Whether a string needs escaping at all (one character class: linear). */
const NEEDS_ESCAPE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const NEEDS_ESCAPE_BUT_LF = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** What each byte is: shown as it is, escaped, or the lead byte of a character to look at. */
const SHOW = 0;
const ESCAPE = 1;
const LEAD_C2 = 2;
const LEAD_E2 = 3;

/**
 * An escaping: which bytes may need it, how a one-byte or C1 control is
 * written (`\xHH` for terminals, `\u00HH` for JSON), and which U+20xx
 * characters (UTF-8 E2 80 xx / E2 81 xx) are escaped as `\u20HH`.
 */
interface Escaping {
  readonly table: Uint8Array;
  readonly unicodeForm: boolean;
  readonly u20: (low: number) => boolean;
}

function table(escaped: readonly number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const b of escaped) t[b] = ESCAPE;
  t[0xc2] = LEAD_C2;
  t[0xe2] = LEAD_E2;
  return t;
}
const C0_BUT_TAB = [...Array(0x20).keys()].filter((b) => b !== 0x09);
/** The bidi embeddings and overrides (U+202A..U+202E) and isolates (U+2066..U+2069). */
const bidi = (low: number) => (low >= 0x2a && low <= 0x2e) || (low >= 0x66 && low <= 0x69);
const TERMINAL: Escaping = { table: table([...C0_BUT_TAB, 0x7f]), unicodeForm: false, u20: bidi };
const TERMINAL_BUT_LF: Escaping = {
  table: table([...C0_BUT_TAB.filter((b) => b !== 0x0a), 0x7f]),
  unicodeForm: false,
  u20: bidi,
};
/** JSON.stringify leaves DEL, C1 and the line and paragraph separators (U+2028, U+2029) as they are. */
const JSON_TEXT: Escaping = { table: table([0x7f]), unicodeForm: true, u20: (low) => low === 0x28 || low === 0x29 };

/**
 * The index of the first byte of `src` that `kinds` does not simply show,
 * or its length. Four bytes at a time: a word with no byte below 0x20, no
 * DEL and no byte above 0x7f holds nothing to escape (the usual bit tricks:
 * `(w - 0x20202020) & ~w & 0x80808080` is non-zero exactly when a byte is
 * below 0x20); only other words are looked at byte by byte. A base64 body
 * is scanned about four times faster than byte by byte.
 */
function firstToLookAt(src: Buffer, kinds: Uint8Array): number {
  const end = src.length;
  let k = 0;
  // Up to a 4-byte boundary of the underlying memory, byte by byte.
  while (k < end && (src.byteOffset + k) % 4 !== 0) {
    if (kinds[src[k]!] !== SHOW) return k;
    k++;
  }
  if (k === end) return end;
  const words = new Uint32Array(src.buffer, src.byteOffset + k, (end - k) >> 2);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const x = w ^ 0x7f7f7f7f;
    if ((((w - 0x20202020) & ~w) | ((x - 0x01010101) & ~x) | w) & 0x80808080) {
      const at = k + i * 4;
      for (let j = at; j < at + 4; j++) if (kinds[src[j]!] !== SHOW) return j;
    }
  }
  for (k += words.length * 4; k < end; k++) if (kinds[src[k]!] !== SHOW) return k;
  return end;
}

/**
 * `src` (valid UTF-8) with the characters `e` names escaped; `src` itself
 * when there are none. One pass into a buffer of the largest possible size
 * (an escape is at most 6 bytes for 1), never filled in, cut to length.
 */
function escapeUtf8(src: Buffer, e: Escaping): Buffer {
  const { table: kinds, unicodeForm, u20 } = e;
  const end = src.length;
  // Most text needs nothing: find the first byte that might.
  let k = firstToLookAt(src, kinds);
  if (k === end) return src;
  let out: Buffer | null = null;
  let o = 0;
  for (; k < end; k++) {
    const b = src[k]!;
    const kind = kinds[b];
    let code = -1;
    let low = -1;
    if (kind === ESCAPE) code = b;
    else if (kind === LEAD_C2) {
      const b1 = k + 1 < end ? src[k + 1]! : 0;
      if (b1 >= 0x80 && b1 <= 0x9f) code = b1;
    } else if (kind === LEAD_E2 && k + 2 < end && (src[k + 1] === 0x80 || src[k + 1] === 0x81)) {
      const l = ((src[k + 1]! & 0x3f) << 6) | (src[k + 2]! & 0x3f);
      if (u20(l)) low = l;
    }
    if (code < 0 && low < 0) {
      if (out !== null) out[o++] = b;
      continue;
    }
    if (out === null) {
      out = Buffer.allocUnsafe(k + (end - k) * 6);
      src.copy(out, 0, 0, k);
      o = k;
    }
    out[o++] = 0x5c; // backslash
    if (low >= 0 || unicodeForm) {
      out[o++] = 0x75; // u
      out[o++] = low >= 0 ? 0x32 : 0x30; // 2 or 0
      out[o++] = 0x30; // 0
    } else {
      out[o++] = 0x78; // x
    }
    const v = low >= 0 ? low : code;
    out[o++] = HEX[v >> 4]!;
    out[o++] = HEX[v & 0xf]!;
    k += low >= 0 ? 2 : kind === LEAD_C2 ? 1 : 0;
  }
  return out === null ? src : out.subarray(0, o);
}

/**
 * Returns the UTF-8 `src` with every control character but tab (and LF with
 * `keepLineFeeds`) written as `\xHH` and every bidi control as `\uHHHH`;
 * `src` itself when nothing needs it. `src` must be valid UTF-8 (decode and
 * re-encode other bytes first).
 */
export function terminalSafeBytes(src: Buffer, keepLineFeeds = false): Buffer {
  return escapeUtf8(src, keepLineFeeds ? TERMINAL_BUT_LF : TERMINAL);
}

/** Whether a JSON text needs `jsonSafe`. */
const JSON_NEEDS_ESCAPE = /[\x7f-\x9f\u2028\u2029]/;

/**
 * A JSON text (from JSON.stringify, which escapes C0) with DEL, C1 and
 * U+2028/U+2029 written as `\uHHHH` as well: a terminal may act on C1
 * (U+009B is CSI) and some line readers take U+2028 for a newline. The JSON
 * means the same and holds no control character.
 */
export function jsonSafe(json: string): string {
  if (!JSON_NEEDS_ESCAPE.test(json)) return json;
  return escapeUtf8(Buffer.from(json, 'utf8'), JSON_TEXT).toString('utf8');
}

/**
 * Returns `text` with every control character but tab written as `\xHH` and
 * every bidi control as `\uHHHH`; with `keepLineFeeds`, LF is kept too (for
 * text that is several lines).
 */
export function terminalSafe(text: string, keepLineFeeds = false): string {
  if (!(keepLineFeeds ? NEEDS_ESCAPE_BUT_LF : NEEDS_ESCAPE).test(text)) return text;
  return terminalSafeBytes(Buffer.from(text, 'utf8'), keepLineFeeds).toString('utf8');
}
