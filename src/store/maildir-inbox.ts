/**
 * `--http` with `--save-dir`: the Maildir is the inbox's persistent store.
 * At start the messages already in `new/` and `cur/` are read back, oldest
 * first, with the envelope from the X-Peer, X-MailFrom and X-RcptTo lines
 * the sink wrote (outputs/maildir.ts) and the time from the file's name, so
 * a restart keeps them and their ids (an id is derived from the file name).
 * A message deleted through the API has its file removed; one pruned past
 * `--max-messages` keeps it (the Maildir is also an output).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { countBareLineEndings } from '../channel/data-decoder.js';
import type { Message } from '../message.js';
import type { MessageStore, StoredMessage } from './message-store.js';
import { folderMailbox } from './mailboxes.js';

const CRLF = Buffer.from('\r\n');

/** The time a Maildir name `<seconds>.M<microseconds>P...` says, or null. */
function nameTime(name: string): number | null {
  const m = /^(\d{1,12})\.M(\d{1,6})P/.exec(name);
  return m ? Number(m[1]) * 1000 + Math.floor(Number(m[2]) / 1000) : null;
}

/** The envelope lines at the top of a file the sink wrote, and where the message starts. */
function envelope(file: Buffer): { peer: string; from: string; to: string[]; start: number } {
  const fields = new Map<string, string>();
  let pos = 0;
  for (let i = 0; i < 3; i++) {
    const lf = file.indexOf(0x0a, pos);
    if (lf < 0) break;
    const line = file.toString('utf8', pos, lf);
    const m = /^(X-Peer|X-MailFrom|X-RcptTo): (.*)$/.exec(line);
    if (!m) break;
    fields.set(m[1]!, m[2]!);
    pos = lf + 1;
  }
  const to = (fields.get('X-RcptTo') ?? '').split(', ').filter((r) => r !== '');
  return { peer: fields.get('X-Peer') ?? '', from: fields.get('X-MailFrom') ?? '', to, start: pos };
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
 * when the API first needs it). Resolves with how many were read. Files that are not
 * the sink's (no Maildir name) are read too, with the file's time.
 */
export async function loadMaildir(dir: string, store: MessageStore): Promise<number> {
  const files: { file: string; time: number; mailbox: string | null }[] = [];
  // The root, and each mailbox's Maildir++ folder (`.team-a/`).
  const roots: { root: string; mailbox: string | null }[] = [{ root: dir, mailbox: null }];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const mailbox = entry.isDirectory() ? folderMailbox(entry.name) : null;
    if (mailbox !== null) roots.push({ root: path.join(dir, entry.name), mailbox });
  }
  for (const { root, mailbox } of roots) {
    for (const folder of ['cur', 'new']) {
      const names = await fs.readdir(path.join(root, folder)).catch(() => [] as string[]);
      for (const name of names) {
        if (name.startsWith('.')) continue;
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
  for (const { file, time, mailbox } of kept) {
    const bytes = await fs.readFile(file).catch(() => null);
    if (bytes === null) continue;
    const env = envelope(bytes);
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
    store.add(message, file);
  }
  return kept.length;
}

/** Removes the file of a message deleted through the API (not of one pruned). */
export function removeDeletedFiles(store: MessageStore, log: NodeJS.WritableStream): void {
  store.on('removed', (entry: StoredMessage, reason: 'deleted' | 'pruned' | 'cleared') => {
    if (reason === 'pruned' || entry.file === null) return;
    fs.rm(entry.file, { force: true }).catch((err: Error) =>
      log.write(`smtpd-ts: cannot remove ${entry.file}: ${err.message}\n`),
    );
  });
}
