/**
 * Python's notion of white space, for the few places where smtpd's reply
 * depends on `str.strip()` or `str.split()`: JavaScript's `\s` and `trim()`
 * differ on U+001C..U+001F, U+0085 and U+FEFF, and a differential test
 * against smtpd notices.
 */
const WS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING = new RegExp(`^[${WS}]+`, 'u');
/** One white-space character: trailing runs are found by a loop, since `[...]+$` backtracks quadratically. */
const ONE = new RegExp(`^[${WS}]$`, 'u');
const RUNS = new RegExp(`[${WS}]+`, 'u');

/** Python's `str.strip()`. */
export function pyStrip(text: string): string {
  return pyRstrip(text.replace(LEADING, ''));
}

/** Python's `str.rstrip()`: linear, walking back from the end (every white-space character is one UTF-16 unit). */
function pyRstrip(text: string): string {
  let end = text.length;
  while (end > 0 && ONE.test(text[end - 1]!)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Python's `str.lstrip()`. */
export function pyLstrip(text: string): string {
  return text.replace(LEADING, '');
}

/** Python's `str.split()` with no separator: runs of white space, no empty words. */
export function pySplit(text: string): string[] {
  const stripped = pyStrip(text);
  return stripped === '' ? [] : stripped.split(RUNS);
}
