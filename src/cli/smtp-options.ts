/**
 * Turns the TLS and AUTH settings into server options at start-up: reads the
 * certificate or generates one (printing its fingerprint), reads the
 * `--auth-file`. A file that cannot be read or parsed is a UsageError
 * (exit 2, as for --rules): the flag names a bad file.
 */
import { readFile } from 'node:fs/promises';
import { parseUsers } from '../channel/auth.js';
import type { ServerOptions } from '../server/server.js';
import { loadCredentials, selfSignedCredentials } from '../server/tls.js';
import type { SmtpSettingsFromFlags } from './smtp-settings.js';
import { UsageError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';

type CredentialOptions = Pick<ServerOptions, 'tls' | 'auth'>;

/** A `user:password` file a flag names (`--auth-file`, `--http-auth-file`); a bad one is a UsageError. */
export async function readUsersFile(path: string, flag: string): Promise<Map<string, string>> {
  const text = await readFile(path, 'utf8').catch((e: Error) =>
    Promise.reject(new UsageError(`cannot read ${flag} ${path}: ${describeIoError(e)}`)),
  );
  try {
    return parseUsers(text);
  } catch (e) {
    throw new UsageError(`bad ${flag} ${path}: ${(e as Error).message}`);
  }
}

/** The server options for `settings`; writes the certificate's fingerprint to `log`. */
export async function credentialOptions(
  settings: Pick<SmtpSettingsFromFlags, 'tls' | 'auth'>,
  log: NodeJS.WritableStream,
  /** The name a generated certificate is for (the sink's host name). */
  hostname: string,
): Promise<CredentialOptions> {
  const options: CredentialOptions = { auth: null };
  if (settings.tls) {
    const credentials =
      settings.tls.kind === 'files'
        ? await loadCredentials(settings.tls.cert, settings.tls.key).catch((e: Error) => {
            throw new UsageError(e.message);
          })
        : await selfSignedCredentials(hostname);
    options.tls = { cert: credentials.cert, key: credentials.key };
    const what = credentials.selfSigned
      ? `self-signed certificate for ${hostname}, generated for this run`
      : 'certificate';
    log.write(`smtpd-ts: TLS ${what}: SHA-256 fingerprint ${credentials.fingerprint256}\n`);
  }
  if (settings.auth) {
    const users = settings.auth.file === null ? undefined : await readUsersFile(settings.auth.file, '--auth-file');
    options.auth = {
      required: settings.auth.required,
      // Without --auth-insecure the server decides: in the clear on loopback only.
      ...(settings.auth.insecure ? { insecure: true } : {}),
      ...(users ? { users } : {}),
    };
  }
  return options;
}
