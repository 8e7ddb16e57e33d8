/**
 * `smtpd-ts | head -1`: when the reader of stdout goes, the sink stops as a
 * Unix filter does. The message it could not write gets 451 (never a 250
 * for output nobody reads), and the process exits 0 with one line saying why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { until } from '../helpers/until.js';

describe('a closed stdout', () => {
  const dir = tempDir('stdout-closed');

  it('ends the sink once its reader has gone, exit 0, the unwritten message answered 451', async () => {
    const ready = dir.join('ready');
    const sink = [process.execPath, ...NODE_ARGS, '--ready-file', ready, '127.0.0.1:0'].map((a) => `'${a}'`).join(' ');
    // The shell's pipeline, as a user types it; PIPESTATUS gives the sink's own status.
    const shell = spawn('bash', ['-c', `${sink} 2>${dir.join('err')} | head -1; echo "sink=\${PIPESTATUS[0]}"`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    shell.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    await until(async () => (await readFile(ready, 'utf8').catch(() => '')).endsWith('\n'), 15_000, 'the ready file');
    const port = Number((await readFile(ready, 'utf8')).trim().split(':').pop());
    const message = { from: 'a@example.test', to: ['b@example.test'], data: 'Subject: one\r\n\r\nbody' };
    // head reads the first line of the first message and exits; a later message finds the pipe closed.
    const codes: number[][] = [];
    for (let i = 0; i < 20 && !codes.some((c) => c.includes(451)); i++) {
      codes.push(await sendMail(port, message).catch(() => [0]));
      await new Promise((r) => setTimeout(r, 50));
    }
    const [code] = (await once(shell, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(codes[0]![5], 250, 'the first message was written');
    assert.ok(
      codes.some((c) => c[5] === 451),
      `a later message got 451: ${JSON.stringify(codes)}`,
    );
    assert.match(out, /^---------- MESSAGE FOLLOWS ----------\nsink=0\n$/);
    const err = await readFile(dir.join('err'), 'utf8');
    assert.match(
      err,
      /smtpd-ts: stdout closed \(its reader has gone\): finishing transactions in flight, then exiting/,
    );
    await assert.rejects(readFile(ready), 'the ready file is removed');
  });
});
