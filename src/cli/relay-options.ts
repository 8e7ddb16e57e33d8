/**
 * From the CLI's relay settings to the server's handler and RCPT policy:
 * the RelayHandler around the CLI's OutputHandler, with the upstream's
 * password read from its file at start (an unreadable file stops the start).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { describeIoError } from '../outputs/output.js';
import type { OutputHandler } from '../handlers/outputs.js';
import { RelayHandler } from '../handlers/relay.js';
import type { ServerOptions } from '../server/server.js';
import type { ContextHandler } from '../handlers/strict.js';
import { recipientPolicy } from '../relay/policy.js';
import type { RelaySettings } from './relay-settings.js';
import type { UpstreamOptions } from '../relay/upstream.js';

/** What `--relay-password-file` holds: the password on its first line. */
async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split(/\r?\n/)[0]!;
  } catch (err) {
    throw new UsageError(`cannot read --relay-password-file ${file}: ${describeIoError(err)}`);
  }
}

/**
 * The CLI's handler and RCPT policy for its relay settings: `printer` alone
 * when there is nothing to relay or deliver; otherwise a RelayHandler that
 * delivers, then prints with `printer`. Reads the password file.
 */
export async function relayServerOptions(
  settings: RelaySettings,
  log: NodeJS.WritableStream,
  printer: OutputHandler,
  /** The name we give upstream in EHLO (the sink's host name). */
  hostname: string,
): Promise<{ handler: ContextHandler; upstream: UpstreamOptions | null } & Pick<ServerOptions, 'acceptRecipient'>> {
  if (!settings.upstream && settings.routes.length === 0) return { handler: printer, upstream: null };
  const auth =
    settings.user !== null && settings.passwordFile !== null
      ? { user: settings.user, pass: await readPassword(settings.passwordFile) }
      : undefined;
  const upstream: UpstreamOptions | null = settings.upstream && {
    ...settings.upstream,
    requireTLS: settings.requireTLS,
    auth,
    timeoutMs: settings.timeoutMs,
    name: hostname,
  };
  const handler = new RelayHandler({
    upstream,
    routes: settings.routes,
    deliverTimeoutMs: settings.deliverTimeoutMs,
    print: (message, context) => printer.handleMessage(message, context),
    log,
  });
  const policy = recipientPolicy({
    relaying: upstream !== null,
    allow: settings.allow,
    domains: settings.domains,
    routes: settings.routes,
  });
  return { handler, acceptRecipient: policy, upstream };
}
