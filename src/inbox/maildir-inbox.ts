/**
 * `--http` with `--save-dir`: the Maildir is the inbox's persistent store.
 * At start the messages already in `new/` and `cur/` are read back, oldest
 * first, with the envelope from the X-Peer, X-MailFrom and X-RcptTo lines
 * the sink wrote (outputs/maildir.ts) and the time from the file's name, so
 * a restart keeps them and their ids (an id is derived from the file name).
 * A message deleted through the API has its file removed; one pruned past
 * `--max-messages` keeps it (the Maildir is also an output).
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { countBareLineEndings } from '../channel/data-decoder.js';
import type { Message } from '../message.js';
import type { MessageStore, StoredMessage, StoreLimits } from './message-store.js';
import { folderMailbox } from '../mailboxes.js';
import { readEnvelopeLines } from '../envelope.js';
import { MemoryInbox } from './memory-inbox.js';

const CRLF = Buffer.from('\r\n');

/** The largest file read back, in bytes: a larger one is not a message this sink wrote with its limits. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** The time a Maildir name `<seconds>.M<microseconds>P...` says, or null. */
function nameTime(name: string): number | null {
  const m = /^(\d{1,12})\.M(\d{1,6})P/.exec(name);
  return m ? Number(m[1]) * 1000 + Math.floor(Number(m[2]) / 1000) : null;
}

/** Maildir's LF line endings back to CRLF, as the message was received. */
function toCrlf(data: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let from = 0;
  for (let at = data.indexOf(0x0a); at >= 0; at = data.indexOf(0x0a, from)) {
    pieces.push(data.subarray(from, at > from && data[at - 1] === 0x0d ? at - 1 : at), CRLF);
    from = at + 1;
  }
  pieces.push(data.subarray(from));
  return Buffer.concat(pieces);
}

/**
 * Reads the Maildir's messages into `store`, oldest first (each is parsed
 * when the API first needs it). Resolves with how many were read: regular
 * files only, each of at most `maxBytes`. Files that are not
 * the sink's (no Maildir name) are read too, with the file's time.
 */
export async function loadMaildir(dir: string, store: MessageStore, maxBytes = MAX_FILE_BYTES): Promise<number> {
  const files: { file: string; time: number; mailbox: string | null }[] = [];
  // The root, and each mailbox's Maildir++ folder (`.team-a/`).
  const roots: { root: string; mailbox: string | null }[] = [{ root: dir, mailbox: null }];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const mailbox = entry.isDirectory() ? folderMailbox(entry.name) : null;
    if (mailbox !== null) roots.push({ root: path.join(dir, entry.name), mailbox });
  }
  for (const { root, mailbox } of roots) {
    for (const folder of ['cur', 'new']) {
      // Only real folders and regular files: a link may point anywhere (a file outside, /dev/zero),
      // and a FIFO blocks its reader for ever.
      const where = path.join(root, folder);
      const isFolder = await fs.lstat(where).then(
        (s) => s.isDirectory(),
        () => false,
      );
      const entries = isFolder ? await fs.readdir(where, { withFileTypes: true }).catch(() => []) : [];
      for (const entry of entries) {
        const name = entry.name;
        if (name.startsWith('.') || !entry.isFile()) continue;
        const file = path.join(root, folder, name);
        const time =
          nameTime(name) ??
          (await fs
            .stat(file)
            .then((s) => s.mtimeMs)
            .catch(() => null));
        if (time !== null) files.push({ file, time, mailbox });
      }
    }
  }
  files.sort((a, b) => a.time - b.time || (a.file < b.file ? -1 : 1));
  // Only the newest that the store keeps are worth parsing.
  const kept = store.maxMessages > 0 ? files.slice(-store.maxMessages) : files;
  let read = 0;
  for (const { file, time, mailbox } of kept) {
    const bytes = await readRegularFile(file, maxBytes);
    if (bytes === null) continue;
    read++;
    const env = readEnvelopeLines(bytes);
    const data = toCrlf(bytes.subarray(env.start));
    const message: Message = {
      id: path.basename(file),
      receivedAt: new Date(time),
      peer: { address: env.peer, port: 0 },
      local: { address: '', port: 0 },
      helo: '',
      extended: true,
      mailFrom: env.from,
      rcptTos: env.to,
      mailOptions: [],
      rcptOptions: [],
      data,
      bareLineEndings: countBareLineEndings(data),
      mailbox,
    };
    store.add(message, { file });
  }
  return read;
}

/**
 * A file's bytes, when it is (still) a regular file of at most `max` bytes
 * and not a link; else null. Opened without following a link and without
 * blocking, then checked on the open descriptor, so nothing swapped in
 * between the listing and the read is read.
 */
async function readRegularFile(file: string, max: number): Promise<Buffer | null> {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fsConstants;
  const handle = await fs.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > max) return null;
    return await handle.readFile();
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** Removes the file of a message deleted through the API (not of one pruned). */
function removeDeletedFiles(store: MessageStore, log: NodeJS.WritableStream): void {
  store.on('removed', (entry: StoredMessage, reason: 'deleted' | 'pruned' | 'cleared') => {
    if (reason === 'pruned' || entry.file === null) return;
    fs.rm(entry.file, { force: true }).catch((err: Error) =>
      log.write(`smtpd-ts: cannot remove ${entry.file}: ${err.message}\n`),
    );
  });
}

/**
 * The inbox in memory with the Maildir behind it (`--http --save-dir`):
 * what the Maildir holds is read back at open, and a message deleted here
 * has its file removed.
 */
export class MaildirInbox extends MemoryInbox {
  private loaded = 0;

  /** How many messages were read back from the Maildir at open. */
  get read(): number {
    return this.loaded;
  }

  static async open(dir: string, limits: StoreLimits, log: NodeJS.WritableStream): Promise<MaildirInbox> {
    const inbox = new MaildirInbox(limits);
    inbox.loaded = await loadMaildir(dir, inbox.store);
    removeDeletedFiles(inbox.store, log);
    return inbox;
  }
}
