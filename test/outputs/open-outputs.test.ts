import assert from 'node:assert/strict';
import { stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { openOutputs } from '../../src/outputs/open-outputs.js';
import { PLAIN } from '../../src/printers/style.js';
import { tempDir } from '../helpers/temp-dir.js';
import { OutputError } from '../../src/errors.js';

/** A stdout stand-in that claims to be a terminal. */
function tty(): NodeJS.WritableStream {
  return Object.assign(new PassThrough(), { isTTY: true });
}

describe('openOutputs', () => {
  const tmp = tempDir('open');

  it('colours a human format on a terminal, and neither a file nor JSON', async () => {
    const opened = await openOutputs(
      {
        outputs: [
          { format: 'parsed', path: null },
          { format: 'raw', path: tmp.join('raw.txt') },
          { format: 'json', path: tmp.join('j.jsonl') },
        ],
        saveDir: null,
        color: undefined,
      },
      tty(),
      {},
    );
    const [terminal, file, json] = opened.outputs;
    assert.notEqual(terminal!.style, PLAIN);
    assert.equal(file!.style, PLAIN);
    assert.equal(json!.style, PLAIN);
    assert.equal(file!.destination.name, tmp.join('raw.txt'));
    await opened.close();
  });

  it('colours files with --color but never JSON, and nothing with NO_COLOR', async () => {
    const settings = {
      outputs: [
        { format: 'raw', path: tmp.join('c.txt') },
        { format: 'json', path: null },
      ],
      saveDir: null,
    } as const;
    const forced = await openOutputs({ ...settings, color: true }, tty(), { NO_COLOR: '1' });
    assert.notEqual(forced.outputs[0]!.style, PLAIN);
    assert.equal(forced.outputs[1]!.style, PLAIN);
    await forced.close();
    const off = await openOutputs({ ...settings, color: undefined }, tty(), { NO_COLOR: '1' });
    assert.equal(off.outputs[0]!.style, PLAIN);
    await off.close();
  });

  it('creates the Maildir', async () => {
    const saveDir = tmp.join('Maildir');
    const opened = await openOutputs({ outputs: [], saveDir, color: false }, tty(), {});
    assert.equal(opened.maildir?.dir, saveDir);
    assert.ok((await stat(path.join(saveDir, 'new'))).isDirectory());
  });

  it('fails with an OutputError naming the path when a file or the Maildir cannot be made', async () => {
    const blocker = tmp.join('raw.txt'); // a file, so nothing can be created below it
    await assert.rejects(
      openOutputs(
        { outputs: [{ format: 'raw', path: path.join(blocker, 'x') }], saveDir: null, color: false },
        tty(),
        {},
      ),
      (err: unknown) =>
        err instanceof OutputError && err.message.startsWith(`cannot open output ${path.join(blocker, 'x')}: `),
    );
    await assert.rejects(
      openOutputs({ outputs: [], saveDir: path.join(blocker, 'Maildir'), color: false }, tty(), {}),
      (err: unknown) =>
        err instanceof OutputError &&
        err.message.startsWith(`cannot create Maildir ${path.join(blocker, 'Maildir')}: `),
    );
  });

  it('refuses two outputs that name one file in different ways, and lets /dev/null be named twice', async () => {
    const file = tmp.join('same.log');
    await writeFile(file, '');
    await symlink(file, tmp.join('link.log'));
    for (const other of [
      `${path.dirname(file)}/./same.log`,
      tmp.join('link.log'),
      `${path.dirname(file)}/../${path.basename(path.dirname(file))}/same.log`,
    ]) {
      await assert.rejects(
        openOutputs(
          {
            outputs: [
              { format: 'raw', path: file },
              { format: 'json', path: other },
            ],
            saveDir: null,
            color: false,
          },
          new PassThrough(),
          {},
        ),
        (err: unknown) =>
          err instanceof OutputError && err.message === `two outputs write to the same file: ${file} and ${other}`,
      );
    }
    const fine = await openOutputs(
      {
        outputs: [
          { format: 'raw', path: '/dev/null' },
          { format: 'json', path: '/dev/null' },
        ],
        saveDir: null,
        color: false,
      },
      new PassThrough(),
      {},
    );
    await fine.close();
  });
});
