/**
 * `--mailbox NAME=MATCH` (repeatable) and `--mailbox-file PATH`: the
 * mailbox rules (src/mailboxes.ts), flags first, then the file's
 * lines; a bad rule or an unreadable file is a usage error (exit 2).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';
import { parseDuration } from '../duration.js';
import type { MailboxRule } from '../mailboxes.js';

/** What a mailbox name may be: also a Maildir++ folder name and a Mailpit tag. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface MailboxSettings {
  readonly rules: readonly MailboxRule[];
  /** `--mailbox-file`, read by loadMailboxFile; null without it. */
  readonly file: string | null;
}

export function toMailboxSettings(flags: readonly string[] | undefined, file: string | undefined): MailboxSettings {
  return { rules: (flags ?? []).map((rule) => parseMailboxRule(rule)), file: file ?? null };
}

/** Appends the file's rules; read at start, not in the pure toConfig. */
export function loadMailboxFile(
  settings: MailboxSettings,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): MailboxSettings {
  if (settings.file === null) return settings;
  let text: string;
  try {
    text = read(settings.file);
  } catch (err) {
    throw new UsageError(`cannot read --mailbox-file ${settings.file}: ${describeIoError(err)}`);
  }
  return { ...settings, rules: [...settings.rules, ...parseMailboxFile(text, settings.file)] };
}

/** One rule as written; a bad one is a UsageError that says what is wrong, after `flag`. */
export function parseMailboxRule(text: string, flag = '--mailbox'): MailboxRule {
  const [head = '', ...options] = text.trim().split(';');
  const eq = head.indexOf('=');
  if (eq < 0) throw new UsageError(`${flag}: '${text}' is not NAME=MATCH (e.g. team-a=*@a.example)`);
  const name = head.slice(0, eq).trim();
  const match = head.slice(eq + 1).trim();
  if (!NAME.test(name))
    throw new UsageError(`${flag}: mailbox name '${name}': letters, digits, - and _, at most 64, not first - or _`);
  let kind: MailboxRule['kind'] = 'to';
  let field: string | undefined;
  let pattern = match;
  const prefix = /^(to|from|user|header):(.*)$/i.exec(match);
  if (prefix) {
    kind = prefix[1]!.toLowerCase() as MailboxRule['kind'];
    pattern = prefix[2]!;
    if (kind === 'header') {
      const at = pattern.indexOf('=');
      field = at > 0 ? pattern.slice(0, at).trim().toLowerCase() : '';
      if (!/^[!-9;-~]+$/.test(field)) throw new UsageError(`${flag}: '${text}': header:Field-Name=GLOB`);
      pattern = pattern.slice(at + 1);
    }
  }
  if (pattern === '') throw new UsageError(`${flag}: '${text}': nothing to match`);
  const limits: { maxMessages?: number; maxAgeMs?: number } = {};
  for (const option of options) {
    const [key = '', value = ''] = option.split('=').map((s) => s.trim());
    if (key === 'max-messages' && /^\d{1,9}$/.test(value)) limits.maxMessages = Number(value);
    else if (key === 'max-age' && parseDuration(value) > 0) limits.maxAgeMs = parseDuration(value);
    else throw new UsageError(`${flag}: '${text}': '${option}' is not max-messages=N or max-age=DURATION`);
  }
  return { name, kind, ...(field ? { field } : {}), pattern, limits, text };
}

/** The rules in a file: one a line, `#` comments and blank lines skipped; errors name the line. */
export function parseMailboxFile(content: string, file: string): MailboxRule[] {
  const rules: MailboxRule[] = [];
  content.split(/\r?\n/).forEach((line, i) => {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return;
    rules.push(parseMailboxRule(text, `--mailbox-file: ${file}:${i + 1}`));
  });
  return rules;
}
