/**
 * sendmail's command line, as PHP's `mail()` (`sendmail -t -i`), cron and
 * scripts call it: `-t`, `-i`/`-oi`, `-f ADDR`/`-fADDR` (and `-r`), `-F
 * NAME`, recipients as arguments; the other `-o` options and `-bm`, `-v`,
 * `-B`, `-N`, `-R`, `-U` are accepted and ignored, as Mailpit's and
 * MailHog's sendmail do. sendmail's attached option values (`-fme@x`) rule
 * out a generic parser. Pure.
 */
import { UsageError } from '../../errors.js';
import { parseHostPort, type HostPort } from '../flag-values.js';

/** Where the sink is, unless `-S`/`--smtp-addr` or SMTPD_TS_SMTP_ADDR says otherwise. */
const DEFAULT_SINK = '127.0.0.1:1025';

/** The environment variable naming the sink, for `sendmail_path` lines that cannot take flags. */
const SINK_ENV = 'SMTPD_TS_SMTP_ADDR';

export interface SendmailArgs {
  /** `-t`: recipients from To, Cc and Bcc too (Bcc is removed from the message). */
  readonly readRecipients: boolean;
  /** `-i`/`-oi`: a line of a single dot does not end the input. */
  readonly ignoreDots: boolean;
  /** `-f`/`-r`: the envelope sender, or null for the user running it. */
  readonly sender: string | null;
  /** `-F`: the full name for a From header the message lacks, or null. */
  readonly fullName: string | null;
  readonly recipients: readonly string[];
  readonly sink: HostPort;
  readonly help: boolean;
}

/** Flags taking a value, attached (`-fme@x`) or next (`-f me@x`). */
const WITH_VALUE = new Set(['f', 'r', 'F', 'S', 'B', 'N', 'R', 'V', 'L', 'O', 'X', 'h', 'q', 'C', 'p']);
/** Flags with no value, accepted and ignored. */
const IGNORED = new Set(['v', 'U', 'm', 'n', 'G', 'x', 'e', 'd']);

export function parseSendmailArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SendmailArgs {
  let readRecipients = false;
  let ignoreDots = false;
  let sender: string | null = null;
  let fullName: string | null = null;
  let sink = env[SINK_ENV] || DEFAULT_SINK;
  let help = false;
  const recipients: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      recipients.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-help') {
      help = true;
      continue;
    }
    if (arg === '--smtp-addr' || arg.startsWith('--smtp-addr=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (value === undefined) throw new UsageError('--smtp-addr needs host:port');
      sink = value;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      // sendmail takes `a@x, b@y` as well as separate arguments.
      recipients.push(
        ...arg
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      );
      continue;
    }
    const flag = arg[1]!;
    if (flag === 't' && arg === '-t') readRecipients = true;
    else if (flag === 'i' && arg === '-i') ignoreDots = true;
    else if (flag === 'o') {
      // -oi is -i; -odi, -oem, -oQ... are queue and error-mode options with no meaning here.
      if (arg === '-oi') ignoreDots = true;
    } else if (flag === 'b') {
      if (arg !== '-bm')
        throw new UsageError(`${arg} is not supported: only -bm (read a message on stdin), the default`);
    } else if (WITH_VALUE.has(flag)) {
      const value = arg.length > 2 ? arg.slice(2) : argv[++i];
      if (value === undefined) throw new UsageError(`-${flag} needs a value`);
      // A line break would start a header line of its own (-F) or a command of its own (-f).
      if (/[\r\n\0]/.test(value)) throw new UsageError(`-${flag} may not hold a line break or NUL`);
      if (flag === 'f' || flag === 'r') sender = value;
      else if (flag === 'F') fullName = value;
      else if (flag === 'S') sink = value;
    } else if (!IGNORED.has(flag) || arg.length > 2) {
      throw new UsageError(`unknown option ${arg} (see smtpd-ts sendmail --help)`);
    }
  }
  if (recipients.some((r) => /[\r\n\0]/.test(r))) throw new UsageError('a recipient may not hold a line break or NUL');
  return { readRecipients, ignoreDots, sender, fullName, recipients, sink: parseHostPort(sink, 'sink'), help };
}

export const SENDMAIL_HELP = `Usage: smtpd-ts sendmail [options] [recipient ...] < message

Submits the message on stdin to a running sink, as sendmail would hand it to
an MTA: for PHP's mail() (sendmail_path = "npx smtpd-ts sendmail -t -i"), cron
and scripts. Recipients are the arguments, and with -t the To, Cc and Bcc
headers too.

Options:
  -t                  read recipients from the To, Cc and Bcc headers (Bcc is removed)
  -i, -oi             a line of a single dot does not end the message
  -f ADDR, -r ADDR    envelope sender (default: the user running it, at this host)
  -F NAME             full name for the From header, when the message has none
  -S, --smtp-addr H:P the sink's address (default: $${SINK_ENV}, else ${DEFAULT_SINK})
  -o..., -bm, -v, -B, -N, -R, -U   accepted and ignored, as by sendmail's clones
  --help              print this help

Exit status: 0 accepted; 64 a bad option or no recipient; 65 an empty message;
69 the sink refused it (5xx); 74 stdin could not be read; 75 the sink could
not be reached or deferred it (4xx), try again later.
`;
