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

/**
 * Whether the user `ids` could write into `dir` (search every folder above
 * it, write and search it), judged from the modes while still root, so that
 * a start that would fail after dropping privileges fails before, when what
 * it created can still be removed. ACLs are not read; the check after
 * dropping (Maildir.checkWritable) has the last word.
 */
export async function writableBy(ids: { readonly uid: number; readonly gid: number }, dir: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  const path = await import('node:path');
  const allows = (s: { mode: number; uid: number; gid: number }, bits: number) => {
    const shift = s.uid === ids.uid ? 6 : s.gid === ids.gid ? 3 : 0;
    return ((s.mode >> shift) & bits) === bits;
  };
  try {
    const target = path.resolve(dir);
    if (!allows(await stat(target), 0o3)) return false;
    for (let up = path.dirname(target); ; up = path.dirname(up)) {
      if (!allows(await stat(up), 0o1)) return false;
      if (path.dirname(up) === up) return true;
    }
  } catch {
    return false;
  }
}
