/**
 * `--deliver 'PATTERN=COMMAND'` routes (smtpd's MailmanProxy, generalised):
 * which recipients go to which command. PATTERN is a glob over the whole
 * address (`*` any run of characters, `?` one; case-insensitive), or a
 * regular expression written `/.../flags`, tested as JavaScript does
 * (unanchored unless it says `^...$`).
 */

/** Default `--deliver-timeout`: how long a `--deliver` command may run, in seconds. */
export const DEFAULT_DELIVER_TIMEOUT_S = 60;

/** One `--deliver` route. */
export interface DeliverRoute {
  /** The pattern as written. */
  readonly pattern: string;
  /** Run with `/bin/sh -c`, the message on stdin. */
  readonly command: string;
  matches(address: string): boolean;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Parses `PATTERN=COMMAND`; throws Error with the reason when malformed.
 * A glob ends at the first `=`; a `/regexp/flags` at the `=` after its
 * closing slash, so the expression itself may contain `=`.
 */
export function parseDeliverRoute(spec: string): DeliverRoute {
  const regex = /^\/(.+)\/([a-z]*)=(.*)$/s.exec(spec);
  let test: RegExp;
  let pattern: string;
  let command: string;
  if (regex) {
    pattern = `/${regex[1]}/${regex[2]}`;
    command = regex[3]!;
    try {
      // g and y would make test() remember where it stopped.
      test = new RegExp(regex[1]!, regex[2]!.replace(/[gy]/g, ''));
    } catch (err) {
      throw new Error(`bad regular expression ${pattern}: ${(err as Error).message}`, { cause: err });
    }
  } else {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error('expected PATTERN=COMMAND');
    pattern = spec.slice(0, eq);
    command = spec.slice(eq + 1);
    test = globToRegExp(pattern);
  }
  if (command.trim() === '') throw new Error('the command is empty');
  return { pattern, command, matches: (address) => test.test(address) };
}

/** The first route whose pattern matches, or undefined. */
export function routeFor(address: string, routes: readonly DeliverRoute[]): DeliverRoute | undefined {
  return routes.find((r) => r.matches(address));
}
