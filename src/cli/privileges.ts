/**
 * Dropping privileges after binding, as smtpd did (but only where it
 * matters): to `--user`, or to `nobody` as root on a port below 1024.
 */
import { readFileSync } from 'node:fs';
import { type Config } from './config.js';
import { StartError } from '../errors.js';

/** The primary group of `user` from /etc/passwd, if it can be read. */
function primaryGroup(user: string): number | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0] === user);
    const gid = line ? Number(line.split(':')[3]) : NaN;
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * smtpd became `nobody` after binding unless -n, and failed when not root.
 * We drop to `nobody` only where it matters (root on a port below 1024), or
 * to `--user` anywhere; -n never drops.
 */
export function dropPrivileges(config: Config, boundPort: number): void {
  if (!config.setuid) return;
  const root = process.getuid?.() === 0;
  const user = config.user ?? (root && boundPort > 0 && boundPort < 1024 ? 'nobody' : null);
  if (user === null) return;
  try {
    const gid = primaryGroup(user);
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
