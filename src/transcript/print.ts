/**
 * Transcripts for people and for `jq`: the dialogue as lines (`C: `, `S: `,
 * `*  ` for events), terminal-safe and coloured by direction when the
 * output is; and the session's JSON line.
 */
import { jsonLine } from '../printers/json.js';
import { PLAIN, type Style } from '../printers/style.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import type { SessionRecord, TranscriptLine } from './transcript.js';

const PREFIX = { client: 'C: ', server: 'S: ', event: '*  ' } as const;

/** The dialogue lines, one a line, newline-terminated; '' for none. */
export function formatDialogue(lines: readonly TranscriptLine[], style: Style = PLAIN): string {
  return lines
    .map((l) => {
      const text = `${l.at.slice(11, 23)} ${PREFIX[l.dir]}${terminalSafe(l.text)}`;
      const paint = l.dir === 'client' ? style.client : l.dir === 'server' ? style.server : undefined;
      return `${paint ? paint(text) : text}\n`;
    })
    .join('');
}

/** The end of a session in human formats: the rest of the dialogue and how it ended. */
export function formatSessionEnd(
  record: SessionRecord,
  unprinted: readonly TranscriptLine[],
  style: Style = PLAIN,
): string {
  const rules = record.rules.length > 0 ? `, rules: ${record.rules.map((r) => terminalSafe(r)).join(' | ')}` : '';
  return `${formatDialogue(unprinted, style)}${style.frame(`---------- SESSION ${terminalSafe(record.id)} ENDED: ${record.end}${rules} ----------`)}\n`;
}

/** The session's JSON line, newline-terminated. */
export function printSessionJson(record: SessionRecord): string {
  return jsonLine(record);
}
