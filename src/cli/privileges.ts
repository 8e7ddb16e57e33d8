/**
 * Dropping privileges after binding, as smtpd did (but only where it
 * matters): to `--user`, or to `nobody` as root on a port below 1024.
 */
import { readFileSync } from 'node:fs';
import { type Config } from './config.js';
import { StartError } from '../errors.js';

/** The uid and primary gid of `user` from /etc/passwd, if it can be read. */
export function userIds(user: string): { uid: number; gid: number } | undefined {
  try {
    const fields = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0] === user)
      ?.split(':');
    const [uid, gid] = [Number(fields?.[2]), Number(fields?.[3])];
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who the sink will run as after binding, or null to stay as it is. smtpd
 * became `nobody` after binding unless -n, and failed when not root. We drop
 * to `nobody` only where it matters (root on a port below 1024), or to
 * `--user` anywhere; -n never drops.
 */
export function dropTarget(config: Pick<Config, 'setuid' | 'user'>, boundPort: number): string | null {
  if (!config.setuid) return null;
  const root = process.getuid?.() === 0;
  return config.user ?? (root && boundPort > 0 && boundPort < 1024 ? 'nobody' : null);
}

export function dropPrivileges(config: Config, boundPort: number): void {
  const user = dropTarget(config, boundPort);
  if (user === null) return;
  try {
    const gid = userIds(user)?.gid;
    if (gid !== undefined) {
      process.setgroups?.([gid]);
      process.setgid?.(gid);
    }
    process.setuid?.(user);
  } catch (err) {
    throw new StartError(
      `cannot drop privileges to ${user}: ${(err as Error).message}${config.user ? '' : '; use -n to stay root'}`,
    );
  }
}
