import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { OutputHandler } from '../../src/handlers/outputs.js';
import { FileDestination } from '../../src/outputs/file-destination.js';
import { Maildir } from '../../src/outputs/maildir.js';
import { type Destination, type Output } from '../../src/outputs/output.js';
import type { Format } from '../../src/printers/printer.js';
import { FORMATS } from '../../src/printers/registry.js';
import { PLAIN } from '../../src/printers/style.js';
import { WITHDRAWN_JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { validate } from '../helpers/json-schema.js';
import { MemoryDestination } from '../helpers/memory-destination.js';
import { makeMessage } from '../helpers/message.js';
import { tempDir } from '../helpers/temp-dir.js';
import { OutputError } from '../../src/errors.js';

const output = (format: Format, destination: Destination): Output => ({ format, style: PLAIN, destination });

function log(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('the output handler', () => {
  const tmp = tempDir('handler');

  it('writes the message to every output in its format', async () => {
    const [a, b] = [new MemoryDestination(), new MemoryDestination()];
    const handler = new OutputHandler({ outputs: [output(FORMATS.headers, a), output(FORMATS.json, b)] });
    await handler.handleMessage(makeMessage('Subject: hi\n\nbody\n'));
    assert.ok(a.texts[0]!.includes('Subject: hi') && !a.texts[0]!.includes('body'));
    assert.equal((JSON.parse(b.texts[0]!) as { subject: string }).subject, 'hi');
  });

  it('parses once for all the outputs that need it, and not at all when none does', async () => {
    let calls = 0;
    const spy: Format = {
      name: 'spy',
      human: false,
      parses: true,
      print: (_m, c) => `${++calls} ${c?.parsed?.subject}\n`,
    };
    const both = [new MemoryDestination(), new MemoryDestination()];
    await new OutputHandler({ outputs: both.map((d) => output(spy, d)) }).handleMessage(
      makeMessage('Subject: s\n\nb\n'),
    );
    assert.deepEqual(
      both.map((d) => d.texts[0]),
      ['1 s\n', '2 s\n'],
    );
    const plain: Format = { name: 'plain', human: true, parses: false, print: (_m, c) => `${'parsed' in (c ?? {})}\n` };
    const d = new MemoryDestination();
    await new OutputHandler({ outputs: [output(plain, d)] }).handleMessage(makeMessage('Subject: s\n\nb\n'));
    assert.deepEqual(d.texts, ['false\n']);
  });

  it('shows a message it cannot parse raw, with one warning line, and accepts it', async () => {
    const d = new MemoryDestination();
    const warnings = log();
    const handler = new OutputHandler({ outputs: [output(FORMATS.parsed, d)], log: warnings.stream });
    const huge = makeMessage(`X-Huge: ${'h'.repeat(2 << 20)}\n\nbody\n`);
    assert.equal(await handler.handleMessage(huge), undefined);
    assert.ok(d.texts[0]!.includes('X-Peer: 127.0.0.1\n\nbody\n'));
    assert.match(warnings.text(), /^smtpd-ts: warning: message 1234\.1 could not be parsed \(.+\); shown raw\n$/);
  });

  it('saves to the Maildir before printing, so JSON names the saved file', async () => {
    const maildir = new Maildir(tmp.join('Maildir'));
    await maildir.open();
    const d = new MemoryDestination();
    await new OutputHandler({ outputs: [output(FORMATS.json, d)], maildir }).handleMessage(
      makeMessage('Subject: s\n\nb\n'),
    );
    const { savedAs } = JSON.parse(d.texts[0]!) as { savedAs: string };
    assert.deepEqual(await readdir(path.join(maildir.dir, 'new')), [path.basename(savedAs)]);
  });

  it('passes --json-raw to the printers', async () => {
    const d = new MemoryDestination();
    await new OutputHandler({ outputs: [output(FORMATS.json, d)], includeRaw: true }).handleMessage(
      makeMessage('S: s\n\nb\n'),
    );
    assert.equal(
      Buffer.from((JSON.parse(d.texts[0]!) as { raw: string }).raw, 'base64').toString(),
      'S: s\r\n\r\nb\r\n',
    );
  });

  it('throws a 451 OutputError naming the output that failed, and withdraws the message from the others and the Maildir', async () => {
    const maildir = new Maildir(tmp.join('withdrawn'));
    await maildir.open();
    const [raw, json] = [new MemoryDestination(), new MemoryDestination()];
    const failing = new MemoryDestination(
      'out.jsonl',
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    );
    const handler = new OutputHandler({
      outputs: [output(FORMATS.json, failing), output(FORMATS.raw, raw), output(FORMATS.json, json)],
      maildir,
    });
    await assert.rejects(handler.handleMessage(makeMessage('S: s\n\nb\n')), (err: unknown) => {
      assert.ok(err instanceof OutputError);
      assert.equal(err.message, 'cannot write to out.jsonl: no space left on device (ENOSPC)');
      assert.equal(err.reply.code, 451);
      return true;
    });
    assert.equal(raw.texts.length, 2);
    assert.equal(
      raw.texts[1],
      '---------- MESSAGE ABOVE NOT ACCEPTED (451: cannot write to out.jsonl: no space left on device (ENOSPC)) ----------\n',
    );
    const [record, withdrawn] = json.texts.map((t) => JSON.parse(t) as { type: string; id: string });
    assert.equal(record!.type, 'message');
    assert.deepEqual(withdrawn, {
      type: 'withdrawn',
      schemaVersion: 1,
      id: record!.id,
      reason: 'cannot write to out.jsonl: no space left on device (ENOSPC)',
    });
    assert.deepEqual(validate(WITHDRAWN_JSON_SCHEMA, withdrawn), []);
    assert.deepEqual(await readdir(path.join(maildir.dir, 'new')), []);
  });

  it('writes nothing anywhere, the Maildir included, when a printer fails', async () => {
    const maildir = new Maildir(tmp.join('printer-fails'));
    await maildir.open();
    const broken: Format = {
      name: 'broken',
      human: true,
      parses: false,
      print: () => {
        throw new Error('printer bug');
      },
    };
    const [a, b] = [new MemoryDestination(), new MemoryDestination()];
    const handler = new OutputHandler({ outputs: [output(FORMATS.raw, a), output(broken, b)], maildir });
    await assert.rejects(handler.handleMessage(makeMessage('S: s\n\nb\n')), /printer bug/);
    assert.deepEqual([a.texts, b.texts], [[], []]);
    assert.deepEqual(await readdir(path.join(maildir.dir, 'new')), []);
  });

  it('throws an OutputError when the Maildir cannot take the message', async () => {
    const maildir = new Maildir(tmp.join('vanishing'));
    await maildir.open();
    await rm(maildir.dir, { recursive: true });
    await assert.rejects(
      new OutputHandler({ outputs: [], maildir }).handleMessage(makeMessage('x\n')),
      (err: unknown) =>
        err instanceof OutputError &&
        err.message.startsWith(`cannot save to Maildir ${maildir.dir}: no such file or directory`),
    );
  });

  it('turns a full disk into an OutputError', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const full = await FileDestination.open('/dev/full');
    await assert.rejects(
      new OutputHandler({ outputs: [output(FORMATS.raw, full)] }).handleMessage(makeMessage('x\n')),
      /cannot write to \/dev\/full: no space left on device \(ENOSPC\)/,
    );
    await full.close();
  });
});
