/**
 * Mailboxes (`--mailbox`, `--mailbox-file`): each message is filed in one
 * mailbox, chosen when it is accepted, so that a sink shared by many
 * services or a team keeps their mail apart. Rules are tried in the order
 * given and the first that matches wins; a message no rule matches goes
 * to its AUTH user's mailbox when the client authenticated, and to none
 * otherwise. Mailpit's clients see the mailbox as the message's tag.
 *
 * A rule is `NAME=MATCH[;max-messages=N][;max-age=DURATION]`, MATCH one of
 * `GLOB` or `to:GLOB` (a recipient), `from:GLOB` (the envelope sender),
 * `user:GLOB` (the AUTH user), `header:Field-Name=GLOB` (the field's
 * unfolded value). `*` stands for any run of characters, `?` for one;
 * matching ignores case.
 */
import { createHash } from 'node:crypto';
import { firstFieldValues } from './header-block.js';
import type { ChannelMessage } from './channel/actions.js';

export interface MailboxLimits {
  /** Messages the mailbox keeps at most, oldest dropped first; undefined: the inbox's bound only. */
  readonly maxMessages?: number;
  /** Age at most, in ms. */
  readonly maxAgeMs?: number;
}

export interface MailboxRule {
  readonly name: string;
  readonly kind: 'to' | 'from' | 'user' | 'header';
  /** The header field's name, lower case, for `header:`. */
  readonly field?: string;
  readonly pattern: string;
  readonly limits: MailboxLimits;
  /** As written, for messages. */
  readonly text: string;
}

/**
 * Whether `text` matches the glob `pattern` (`*`, `?`), ignoring case. The
 * usual single-backtrack walk: linear in practice, and at worst the product
 * of the two lengths, never exponential (no regular expression is built).
 */
/**
 * How much of a header value a rule reads: a glob costs up to its length
 * times the text's (60 `?` after a `*` against an 8 MiB header held SMTP for
 * 3 s), so a longer value is matched on its first MAX_MATCHED_CHARS.
 */
export const MAX_MATCHED_CHARS = 4096;

export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** The bare address of an envelope path (`<a@b>` -> `a@b`). */
function bare(address: string): string {
  return address.replace(/^<|>$/g, '');
}

/** Chooses each message's mailbox. */
export class MailboxRouter {
  private readonly limitsByName = new Map<string, MailboxLimits>();

  constructor(readonly rules: readonly MailboxRule[]) {
    for (const rule of rules) {
      const known = this.limitsByName.get(rule.name);
      // A mailbox named by several rules takes the bounds given with any of them.
      this.limitsByName.set(rule.name, { ...known, ...rule.limits });
    }
  }

  /** The mailbox of `message`, or null. */
  choose(message: ChannelMessage): string | null {
    let fields: Map<string, string> | null = null;
    for (const rule of this.rules) {
      if (rule.kind === 'to' && message.rcptTos.some((r) => globMatch(rule.pattern, bare(r)))) return rule.name;
      if (rule.kind === 'from' && globMatch(rule.pattern, bare(message.mailFrom))) return rule.name;
      if (rule.kind === 'user' && message.authUser && globMatch(rule.pattern, message.authUser)) return rule.name;
      if (rule.kind === 'header') {
        fields ??= firstFieldValues(message.data, message.data.length, 'utf8');
        const value = fields.get(rule.field!);
        if (value !== undefined && globMatch(rule.pattern, value.trim().slice(0, MAX_MATCHED_CHARS))) return rule.name;
      }
    }
    return message.authUser ? message.authUser : null;
  }

  /** The bounds of a mailbox; empty when its rules give none. */
  limits(name: string): MailboxLimits {
    return this.limitsByName.get(name) ?? {};
  }

  /** The mailboxes that have bounds of their own, with them. */
  bounded(): Map<string, MailboxLimits> {
    return new Map([...this.limitsByName].filter(([, l]) => l.maxMessages !== undefined || l.maxAgeMs !== undefined));
  }
}

/**
 * The Maildir++ folder of a mailbox (`.team-a`): names are checked against
 * NAME, but an AUTH user's may hold anything, so every character outside
 * letters, digits, `-` and `_` is written `%XX` (never `.` or `/`).
 */
export function mailboxFolder(name: string): string {
  const escaped = [...name].map((char) => {
    let out = '';
    for (const b of Buffer.from(char, 'utf8')) {
      const c = String.fromCharCode(b);
      out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  });
  const whole = `.${escaped.join('')}`;
  if (whole.length <= MAX_FOLDER_BYTES) return whole;
  // A file name is at most 255 bytes (50 x `é` escaped is 301): the name's first whole characters, then a hash.
  let out = '.';
  for (const piece of escaped) {
    if (out.length + piece.length > MAX_FOLDER_BYTES - 17) break;
    out += piece;
  }
  return `${out}~${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/** The longest file name most file systems take, in bytes. */
const MAX_FOLDER_BYTES = 255;

/** The mailbox a Maildir++ folder name stands for, or null when it is not one of ours. */
export function folderMailbox(folder: string): string | null {
  // A long name's folder ends in `~` and its hash (mailboxFolder): read back as its start and the hash.
  if (!/^\.(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+(?:~[0-9a-f]{16})?$/.test(folder)) return null;
  const tilde = folder.indexOf('~');
  try {
    if (tilde > 0) return `${decodeURIComponent(folder.slice(1, tilde))}~${folder.slice(tilde + 1)}`;
    return decodeURIComponent(folder.slice(1));
  } catch {
    return null;
  }
}
