/**
 * Mail fixtures (test/fixtures/*.eml, stored with LF line endings) and a
 * client that delivers them with MAIL parameters, dot-stuffed, so that the
 * server receives exactly `loadFixture()`'s bytes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './cli.js';
import { SmtpClient } from './smtp-client.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** LF line endings to CRLF, byte for byte (a CRLF already there stays one). */
export function toCrlf(data: Buffer): Buffer {
  return Buffer.from(data.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** A fixture as the server receives it: CRLF line endings. */
export async function loadFixture(name: string): Promise<Buffer> {
  return toCrlf(await readFile(path.join(FIXTURES, name)));
}

/** What goes on the wire for `data`: each line starting with a dot gets one more (RFC 5321 4.5.2). */
export function dotStuff(data: Buffer): Buffer {
  const text = data.toString('latin1');
  return Buffer.from((text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..'), 'latin1');
}

export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
  /** MAIL parameters, e.g. `['SMTPUTF8']` or `['BODY=8BITMIME']`. */
  readonly mailParams?: readonly string[];
  readonly helo?: string;
}

/**
 * Delivers `data` (CRLF-terminated, not yet dot-stuffed) in one session and
 * returns the reply code to the end of DATA.
 */
export async function deliver(port: number, envelope: Envelope, data: Buffer | string): Promise<number> {
  const c = await SmtpClient.connect(port);
  try {
    const expect = async (line: string | null, code: number) => {
      const r = line === null ? await c.read() : await c.command(line);
      if (r.code !== code)
        throw new Error(`${line ?? 'greeting'}: expected ${code}, got ${r.code} ${r.lines.join(' / ')}`);
    };
    await expect(null, 220);
    await expect(`EHLO ${envelope.helo ?? 'client.test'}`, 250);
    const params = envelope.mailParams?.length ? ` ${envelope.mailParams.join(' ')}` : '';
    await expect(`MAIL FROM:<${envelope.from}>${params}`, 250);
    for (const to of envelope.to) await expect(`RCPT TO:<${to}>`, 250);
    await expect('DATA', 354);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    c.write(dotStuff(bytes));
    c.write(bytes.length === 0 || bytes.subarray(-2).toString('latin1') === '\r\n' ? '.\r\n' : '\r\n.\r\n');
    const code = (await c.read(20_000)).code;
    await c.command('QUIT');
    return code;
  } finally {
    c.close();
  }
}
