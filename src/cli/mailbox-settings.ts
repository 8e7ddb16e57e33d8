/**
 * `--mailbox NAME=MATCH` (repeatable) and `--mailbox-file PATH`: the
 * mailbox rules (src/store/mailboxes.ts), flags first, then the file's
 * lines; a bad rule or an unreadable file is a usage error (exit 2).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';
import { MailboxRuleError, parseMailboxFile, parseMailboxRule, type MailboxRule } from '../store/mailboxes.js';

export interface MailboxSettings {
  readonly rules: readonly MailboxRule[];
  /** `--mailbox-file`, read by loadMailboxFile; null without it. */
  readonly file: string | null;
}

export function toMailboxSettings(flags: readonly string[] | undefined, file: string | undefined): MailboxSettings {
  try {
    return { rules: (flags ?? []).map(parseMailboxRule), file: file ?? null };
  } catch (err) {
    if (err instanceof MailboxRuleError) throw new UsageError(`--mailbox: ${err.message}`);
    throw err;
  }
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
  try {
    return { ...settings, rules: [...settings.rules, ...parseMailboxFile(text, settings.file)] };
  } catch (err) {
    if (err instanceof MailboxRuleError) throw new UsageError(`--mailbox-file: ${err.message}`);
    throw err;
  }
}
