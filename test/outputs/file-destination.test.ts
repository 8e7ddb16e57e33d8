import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { FileDestination } from '../../src/outputs/file-destination.js';
import { PIECE, pieces } from '../../src/outputs/write-text.js';
import { tempDir } from '../helpers/temp-dir.js';
import { OutputError } from '../../src/errors.js';

describe('a file destination', () => {
  const tmp = tempDir('file');

  it('appends to what the file holds, in the order of the writes, each whole', async () => {
    const file = tmp.join('log.jsonl');
    await writeFile(file, 'before\n');
    const d = await FileDestination.open(file);
    const big = `${'x'.repeat(1 << 20)}\n`;
    await Promise.all([d.write('one\n'), d.write(big), d.write('three\n')]);
    await d.close();
    assert.equal(await readFile(file, 'utf8'), `before\none\n${big}three\n`);
    assert.equal(d.isTTY, false);
  });

  it('keeps the order of single texts and messages in parts, in and across turns of the event loop', async () => {
    const file = tmp.join('order.log');
    const d = await FileDestination.open(file);
    const first = [d.write('1,'), d.write(['p1,', Buffer.from('p2,')]), d.write('2,'), d.write(Buffer.from('3,'))];
    await new Promise((r) => setImmediate(r));
    const second = [d.write('4,'), d.write(['p3,']), d.write('5,')];
    await Promise.all([...first, ...second]);
    await d.close();
    assert.equal(await readFile(file, 'utf8'), '1,p1,p2,2,3,4,p3,5,');
  });

  it('writes one large text in pieces, letting the event loop turn between them, surrogate pairs whole', async () => {
    const file = tmp.join('large.log');
    const d = await FileDestination.open(file);
    // A pair straddles every piece boundary (PIECE is even; one 'a' shifts each pair by one).
    const text = `a${'\u{1F600}'.repeat(3 * PIECE)}\n`;
    const bytes = Buffer.alloc(3 * PIECE + 7, 0x1b);
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    await Promise.all([d.write(text), d.write(bytes), d.write('after\n')]);
    clearInterval(ticking);
    await d.close();
    assert.ok(turns >= 3, `the event loop turned ${turns} times during the writes`);
    const written = await readFile(file);
    assert.ok(written.equals(Buffer.concat([Buffer.from(text), bytes, Buffer.from('after\n')])));
  });

  it('cuts parts into pieces of a bounded size, views of a buffer, pairs never split', () => {
    const buffer = Buffer.alloc(PIECE * 2 + 1);
    const cut = pieces(['small', buffer]);
    assert.deepEqual(
      cut.map((p) => p.length),
      [5, PIECE, PIECE, 1],
    );
    assert.equal((cut[1] as Buffer).buffer, buffer.buffer, 'a view, not a copy');
    const text = `a${'\u{1F600}'.repeat(PIECE)}`;
    const strings = pieces([text]) as string[];
    assert.equal(strings.join(''), text);
    for (const s of strings) assert.doesNotMatch(Buffer.from(s).toString(), /\uFFFD/);
  });

  it('fails to open with an OutputError that says which file and why', async () => {
    const missing = tmp.join('no-such-dir', 'x');
    await assert.rejects(FileDestination.open(missing), (err: unknown) => {
      assert.ok(err instanceof OutputError);
      assert.equal(err.message, `cannot open output ${missing}: no such file or directory (ENOENT)`);
      assert.equal(err.reply.code, 451);
      return true;
    });
  });

  it(
    'rejects a write the disk cannot take, and still takes the next one',
    { skip: !existsSync('/dev/full') && 'no /dev/full here' },
    async () => {
      const d = await FileDestination.open('/dev/full');
      await assert.rejects(d.write('x\n'), { code: 'ENOSPC' });
      await assert.rejects(d.write('y\n'), { code: 'ENOSPC' });
      await d.close();
    },
  );
});
