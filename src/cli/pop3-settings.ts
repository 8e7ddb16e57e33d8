/**
 * `--pop3` and its flags as data (`config.pop3`), null without it. Pure;
 * bad values throw UsageError (exit 2). The server is src/pop3/.
 */
import { UsageError } from '../errors.js';
import { optionalPath, parseHostPort, type HostPort } from './flag-values.js';

export interface Pop3CliSettings {
  readonly listen: HostPort;
  /** `--pop3-auth-file`: who may read which mailbox (user:password lines). */
  readonly authFile: string;
  /** `--pop3-tls`: TLS from the first byte instead of STLS. */
  readonly implicit: boolean;
}

export interface Pop3CliOptions {
  pop3?: string;
  pop3AuthFile?: string;
  pop3Tls?: boolean;
}

export function toPop3Settings(options: Pop3CliOptions, http: boolean): Pop3CliSettings | null {
  if (options.pop3 === undefined) {
    if (options.pop3AuthFile !== undefined || options.pop3Tls !== undefined)
      throw new UsageError('--pop3-auth-file and --pop3-tls need --pop3 ADDRESS');
    return null;
  }
  if (!http) throw new UsageError('--pop3 serves the inbox: give --http too');
  if (options.pop3AuthFile === undefined)
    throw new UsageError('--pop3 needs --pop3-auth-file: each user reads the mailbox of their name');
  const spec = options.pop3;
  return {
    listen: parseHostPort(/^[0-9]+$/.test(spec) ? `127.0.0.1:${spec}` : spec, 'POP3'),
    authFile: optionalPath(options.pop3AuthFile, '--pop3-auth-file')!,
    implicit: options.pop3Tls ?? false,
  };
}
