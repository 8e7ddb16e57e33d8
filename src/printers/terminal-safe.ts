/**
 * Mail is untrusted input: an ESC in a header can recolour, retitle or
 * rewrite a terminal (OSC 52 even writes the clipboard). Every human format
 * passes message and envelope text through here, which shows C0 controls
 * (but tab), DEL and C1 controls as visible `\xHH` escapes.
 */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const CONTROL_BUT_LF = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

const escape = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Returns `text` with every control character but tab written as `\xHH`;
 * with `keepLineFeeds`, LF is kept too (for text that is several lines).
 */
export function terminalSafe(text: string, keepLineFeeds = false): string {
  return text.replace(keepLineFeeds ? CONTROL_BUT_LF : CONTROL, escape);
}
