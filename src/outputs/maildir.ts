/**
 * `--save-dir DIR`: every message is delivered into a Maildir, which mutt and
 * other mail readers open directly (aiosmtpd's Mailbox handler does the same
 * with Python's mailbox.Maildir).
 *
 * Delivery follows https://cr.yp.to/proto/maildir.html: write the file in
 * `tmp/` under a unique name, fsync it, then rename it into `new/`, so a
 * reader never sees half a message. Names come from the clock, the process
 * and a counter, never from the message.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Message } from '../message.js';
import { envelopeLines } from '../envelope.js';
import { mailboxFolder } from '../mailboxes.js';
import { slices } from '../slices.js';

const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');

/** The three Maildir folders. */
const FOLDERS = ['tmp', 'new', 'cur'] as const;

/**
 * A Maildir host name: `/` and `:` would break the name (`:` starts the
 * info part), so the spec has them written as `\057` and `\072`.
 */
export function maildirHostname(hostname: string): string {
  return hostname.replace(/\//g, '\\057').replace(/:/g, '\\072');
}

/**
 * `mkdir -p` with mode 0700, bounded by the depth of the path. Not
 * fs.mkdir's `recursive`, which loops forever where mkdir answers ENOENT
 * although the parent exists (under /proc, for one).
 */
async function makeDir(dir: string, created: string[]): Promise<void> {
  try {
    await fs.mkdir(dir, { mode: 0o700 });
    created.push(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw err;
  }
  await makeDir(path.dirname(dir), created);
  await fs.mkdir(dir, { mode: 0o700 }).then(
    () => void created.push(dir),
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
}

/**
 * The lines aiosmtpd's Message handler adds (X-Peer, X-MailFrom, X-RcptTo:
 * `envelopeLines`, control characters escaped), so the envelope can be read
 * in a mail reader; then the message with Maildir's LF line endings.
 */
export function maildirContent(message: Message): Buffer {
  return Buffer.concat(maildirPieces(message));
}

/** The same in pieces, views of the message's bytes: a large message is written without a copy of it. */
function maildirPieces(message: Message): Buffer[] {
  const envelope = envelopeLines(message);
  // CRLF pairs become LF; nothing else changes. Cut at each pair on the
  // bytes (memchr-fast), no string of the message is made.
  const data = message.data;
  const pieces: Buffer[] = [Buffer.from(envelope, 'utf8')];
  let from = 0;
  for (let at = data.indexOf(CRLF); at >= 0; at = data.indexOf(CRLF, from)) {
    pieces.push(data.subarray(from, at), LF);
    from = at + 2;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

/** How much of a file one write takes: joining 30 MiB to write it at once held the event loop for 100 ms. */
const WRITE_BYTES = 1 << 20;

/** Writes `pieces` in order, at most WRITE_BYTES a write (small pieces joined, large ones cut). */
async function writePieces(handle: fs.FileHandle, pieces: readonly Buffer[]): Promise<void> {
  let batch: Buffer[] = [];
  let size = 0;
  const flush = async () => {
    const bytes = batch.length === 1 ? batch[0]! : Buffer.concat(batch, size);
    for (let done = 0; done < bytes.length;) done += (await handle.write(bytes, done)).bytesWritten;
    batch = [];
    size = 0;
  };
  for (const part of slices(pieces, WRITE_BYTES)) {
    if (size + part.length > WRITE_BYTES) await flush();
    batch.push(part);
    size += part.length;
  }
  if (size > 0) await flush();
}

/** A delivery's unique name, its Maildir (the root, or a mailbox's Maildir++ folder) and its path in `new/`. */
export interface PlannedDelivery {
  readonly name: string;
  readonly dir: string;
  readonly path: string;
}

export class Maildir {
  private count = 0;
  private readonly host: string;
  /** The folders `open()` created, parents first. */
  private readonly created: string[] = [];
  /** Mailboxes' Maildir++ folders made so far (`.team-a/` with its tmp, new and cur). */
  private readonly folders = new Map<string, Promise<void>>();

  /** @param dir the Maildir (created by `open()` when missing) */
  constructor(
    readonly dir: string,
    hostname = os.hostname(),
  ) {
    this.host = maildirHostname(hostname);
  }

  /** Creates the Maildir and its folders (mode 0700, as mail is private) where missing. */
  async open(): Promise<void> {
    for (const folder of FOLDERS) await makeDir(path.join(this.dir, folder), this.created);
  }

  /** Gives the folders `open()` created to the user the sink is about to become (as root, before dropping). */
  async giveTo(ids: { readonly uid: number; readonly gid: number }): Promise<void> {
    for (const dir of this.created) await fs.chown(dir, ids.uid, ids.gid);
  }

  /** Removes the folders `open()` created, while still empty (a start that failed leaves nothing behind). */
  async removeCreated(): Promise<void> {
    for (const dir of [...this.created].reverse()) await fs.rmdir(dir).catch(() => {});
  }

  /**
   * Rejects unless this process can deliver here: run after dropping
   * privileges, as `nobody` cannot write a Maildir root created as 0700.
   */
  async checkWritable(): Promise<void> {
    for (const folder of ['tmp', 'new'])
      await fs.access(path.join(this.dir, folder), fs.constants.W_OK | fs.constants.X_OK);
  }

  /** A name unique to this delivery: `<seconds>.M<microseconds>P<pid>Q<count>.<host>`. */
  uniqueName(now = performance.timeOrigin + performance.now()): string {
    this.count += 1;
    const seconds = Math.floor(now / 1000);
    const micros = Math.floor((now - seconds * 1000) * 1000);
    return `${seconds}.M${micros}P${process.pid}Q${this.count}.${this.host}`;
  }

  /**
   * Chooses where the next message goes, before it is written (printers show
   * the path): a message filed in a mailbox goes to its Maildir++ folder
   * (`DIR/.team-a/new/`), which mail readers show as a folder.
   */
  plan(mailbox: string | null = null): PlannedDelivery {
    const name = this.uniqueName();
    const dir = mailbox === null ? this.dir : path.join(this.dir, mailboxFolder(mailbox));
    return { name, dir, path: path.join(dir, 'new', name) };
  }

  /** Makes a mailbox's folder once (with Maildir++'s `maildirfolder` marker). */
  private folder(dir: string): Promise<void> {
    let made = this.folders.get(dir);
    if (!made) {
      made = (async () => {
        for (const folder of FOLDERS) await fs.mkdir(path.join(dir, folder), { recursive: true, mode: 0o700 });
        await fs.writeFile(path.join(dir, 'maildirfolder'), '', { mode: 0o600 });
      })();
      made.catch(() => this.folders.delete(dir));
      this.folders.set(dir, made);
    }
    return made;
  }

  /** Delivers the message into `new/` (where `planned` says, or under a new name); resolves with the file's path. */
  async save(message: Message, planned: PlannedDelivery = this.plan(message.mailbox ?? null)): Promise<string> {
    if (planned.dir !== this.dir) await this.folder(planned.dir);
    const tmp = path.join(planned.dir, 'tmp', planned.name);
    const target = planned.path;
    // 'wx': a name that somehow exists already is an error, not an overwrite.
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await writePieces(handle, maildirPieces(message));
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    await fs.rename(tmp, target);
    return target;
  }
}
