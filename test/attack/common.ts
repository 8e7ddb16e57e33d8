/**
 * What the attack's rounds share (attack.ts for SMTP, inbox.ts for the
 * inbox): a raw SMTP client, one message in a session of its own, the tally
 * of the JSON output, and the bystander in a process of its own.
 */
import { fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readdirSync } from 'node:fs';
import { open, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { exitStatus } from '../helpers/process.js';
import type { BystanderReport } from './bystander.js';

export const REPLY_TIMEOUT_MS = 30_000;
/** The bystander's bound for one greeting, and for one inbox list: what the hardening promises. */
export const BYSTANDER_BOUND_MS = 100;

/** A raw client: writes, and collects what comes back. */
export class Raw {
  text = '';
  closed = false;
  private wake: () => void = () => {};
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => {
      this.text += s;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }
  static async connect(port: number): Promise<Raw> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Raw(socket);
  }
  /** Waits until `test` holds on what arrived, or the connection closed, or the bound passed. */
  async until(test: (text: string) => boolean, ms = REPLY_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!test(this.text) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return test(this.text);
  }
  /** Codes of the complete reply lines (the last line of each reply). */
  codes(): number[] {
    return this.text
      .split('\r\n')
      .filter((l) => /^\d{3} /.test(l))
      .map((l) => Number(l.slice(0, 3)));
  }
}

export const TRANSACTION = (from: string) =>
  `EHLO attacker.test\r\nMAIL FROM:<${from}>\r\nRCPT TO:<victim@sink.test>\r\nDATA\r\n`;

/** Sends one message in a session of its own; true when it got its 250. */
export async function sendOne(port: number, data: Buffer | string, from = 'a@attacker.test'): Promise<boolean> {
  const c = await Raw.connect(port);
  try {
    await c.until((t) => t.includes('220 '));
    c.socket.write(TRANSACTION(from));
    await c.until((t) => t.includes('354 '));
    c.socket.write(data);
    c.socket.write('\r\n.\r\nQUIT\r\n');
    await c.until((t) => t.includes('221 '));
    const codes = c.codes();
    return codes.at(-2) === 250;
  } finally {
    c.socket.destroy();
  }
}

/** What the JSON output holds so far: message ids (with repeats) and withdrawn ids. */
export interface Tally {
  readonly messages: string[];
  readonly withdrawn: Set<string>;
  /** Where the next read starts: past the last complete line, when the file could not be emptied. */
  offset: number;
}

const RECORD_HEAD = /^\{"type":"(\w+)","schemaVersion":\d+,"id":"([^"]+)"/;

/**
 * Reads the records added to `file` (only the start of each line: a line of
 * a 30 MiB message is over 100 MiB), then empties the file, so a long run
 * does not fill the disk. The sink appends (O_APPEND), so its next write
 * lands at the new end.
 */
export async function tallyAndTruncate(file: string, into: Tally): Promise<void> {
  let head = Buffer.alloc(0);
  /** Bytes of a line whose newline has not come yet. */
  let open = 0;
  const take = () => {
    const m = RECORD_HEAD.exec(head.toString('latin1'));
    if (m?.[1] === 'message') into.messages.push(m[2]!);
    if (m?.[1] === 'withdrawn') into.withdrawn.add(m[2]!);
    head = Buffer.alloc(0);
  };
  let read = into.offset;
  let complete = into.offset;
  for await (const chunk of createReadStream(file, { start: into.offset }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); ; nl = chunk.indexOf(0x0a, start)) {
      const end = nl < 0 ? chunk.length : nl;
      if (head.length < 200)
        head = Buffer.concat([head, chunk.subarray(start, Math.min(end, start + 200 - head.length))]);
      if (nl < 0) {
        open += chunk.length - start;
        break;
      }
      take();
      open = 0;
      start = nl + 1;
      complete = read + start;
    }
    read += chunk.length;
  }
  // A line still being written stays: it is read whole next time.
  if (open === 0) await truncate(file, 0);
  into.offset = open === 0 ? 0 : complete;
}

/**
 * Measures greetings (and, given the inbox's `url`, inbox lists) from
 * another process while `work` runs; resolves with the work's result and
 * the bystander's report.
 */
export async function bystander<T>(
  port: number,
  work: Promise<T>,
  url?: string,
): Promise<{ result: T } & BystanderReport> {
  const child = fork(fileURLToPath(new URL('./bystander.ts', import.meta.url)), [
    String(port),
    ...(url === undefined ? [] : [url]),
  ]);
  const report = new Promise<BystanderReport>((resolve) => child.once('message', (m) => resolve(m as BystanderReport)));
  try {
    const result = await work;
    child.send('stop');
    return { result, ...(await report) };
  } finally {
    await exitStatus(child, 10_000);
  }
}

/**
 * Reads the head (first 4 KiB, as text) of every file in the Maildir's
 * `new/`, hands it to `check` with the file's name, then removes the file: a
 * long run would fill the disk.
 */
export async function drainMaildir(maildir: string, check: (head: string, file: string) => void): Promise<void> {
  for (const file of readdirSync(path.join(maildir, 'new'))) {
    const where = path.join(maildir, 'new', file);
    const fd = await open(where, 'r');
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(4096), 0, 4096, 0);
    await fd.close();
    check(buffer.toString('latin1', 0, bytesRead), file);
    await rm(where);
  }
}
