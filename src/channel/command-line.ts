/**
 * One command line, read as smtpd's `found_terminator` read it, check for
 * check: the verb and its argument, the line length limit for that verb, and
 * the verb table entry that runs it, or the 500 that answers the line instead.
 */
import { isUtf8 } from 'node:buffer';
import { traceable } from './auth.js';
import { lookupVerb, type CommandSpec, type Session } from './commands.js';
import { pyStrip } from './py-text.js';
import { R, type Reply } from './reply.js';
import { COMMAND_SIZE_LIMIT, MAIL_SIZE_EXTENSION, MAIL_SMTPUTF8_EXTENSION, type ChannelConfig } from './config.js';

/** A command line: refused with a reply, or a command to run (after the rules are asked). */
export type CommandLine =
  | { readonly kind: 'refused'; readonly reply: Reply }
  | { readonly kind: 'command'; readonly verb: string; readonly arg: string | null; readonly spec: CommandSpec };

/** MAIL's line limit after EHLO (smtpd's `command_size_limits['MAIL']`). */
export function mailLineLimit(config: ChannelConfig): number {
  return (
    COMMAND_SIZE_LIMIT +
    (config.dataSizeLimit ? MAIL_SIZE_EXTENSION : 0) +
    (config.smtputf8 ? MAIL_SMTPUTF8_EXTENSION : 0)
  );
}

/** Reads a complete command line (without its line ending); `mailLimit` is `mailLineLimit(config)`. */
export function readCommandLine(
  bytes: Buffer,
  config: ChannelConfig,
  session: Session,
  mailLimit: number,
): CommandLine {
  if (bytes.length === 0) return refused(R.R500_BAD_SYNTAX);
  if (!isUtf8(bytes)) return refused(R.R500_NOT_UTF8);
  const text = bytes.toString('utf8');
  const space = text.indexOf(' ');
  const verb = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  const arg = space < 0 ? null : pyStrip(text.slice(space + 1));
  const limit = session.extended && verb === 'MAIL' ? mailLimit : COMMAND_SIZE_LIMIT;
  if (bytes.length > limit) return refused(R.R500_LINE_TOO_LONG);
  const spec = lookupVerb(verb);
  // `AUTH<TAB>PLAIN<TAB>secret` is one unknown word: its echo must not carry the secret.
  if (!spec || (spec.enabled && !spec.enabled(config, session))) return refused(R.R500_UNRECOGNIZED(traceable(verb)));
  return { kind: 'command', verb, arg, spec };
}

function refused(reply: Reply): CommandLine {
  return { kind: 'refused', reply };
}
