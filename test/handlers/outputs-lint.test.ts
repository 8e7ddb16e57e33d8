/**
 * The output handler's lint and expectation hooks: findings reach JSON
 * always and human formats only with showLint, --strict refuses before any
 * write, and onWritten sees each message once every output has it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputHandler } from '../../src/handlers/outputs.js';
import { StrictHandler } from '../../src/handlers/strict.js';
import { lintMessage } from '../../src/lint/lint.js';
import type { Output } from '../../src/outputs/output.js';
import type { PrintContext } from '../../src/printers/printer.js';
import { FORMATS } from '../../src/printers/registry.js';
import { PLAIN } from '../../src/printers/style.js';
import { MemoryDestination } from '../helpers/memory-destination.js';
import { makeMessage } from '../helpers/message.js';
import { StrictRejection } from '../../src/errors.js';

const SLOPPY = makeMessage('Subject: no date\n\nbody\n');
const outputs = (): [MemoryDestination, MemoryDestination, Output[]] => {
  const [raw, json] = [new MemoryDestination(), new MemoryDestination()];
  return [
    raw,
    json,
    [
      { format: FORMATS.raw, style: PLAIN, destination: raw },
      { format: FORMATS.json, style: PLAIN, destination: json },
    ],
  ];
};

describe('the output handler with the lint', () => {
  it('gives JSON the findings always, and human formats only with showLint', async () => {
    const [raw, json, list] = outputs();
    await new OutputHandler({ outputs: list }).handleMessage(SLOPPY);
    assert.ok(!raw.texts[0]!.includes('lint:'));
    assert.deepEqual(
      (JSON.parse(json.texts[0]!) as { lint: { code: string }[] }).lint.map((f) => f.code),
      ['missing-from', 'missing-date', 'missing-message-id'],
    );
    const [shown, , list2] = outputs();
    await new OutputHandler({ outputs: list2, showLint: true }).handleMessage(SLOPPY);
    assert.match(shown.texts[0]!, /END MESSAGE -+\nlint: 3 findings\n {2}error {3}missing-from: /);
  });

  it('does not lint at all when nothing shows or judges findings', async () => {
    let context: PrintContext | undefined;
    const spy = {
      name: 'spy',
      human: true,
      parses: false,
      print: (_m: unknown, c?: PrintContext) => ((context = c), ''),
    };
    await new OutputHandler({
      outputs: [{ format: spy, style: PLAIN, destination: new MemoryDestination() }],
    }).handleMessage(SLOPPY);
    assert.equal(context?.lint, undefined);
  });

  it('--strict refuses a message with an error with a 550 before writing anything', async () => {
    const [raw, json, list] = outputs();
    const written: string[] = [];
    const printer = new OutputHandler({ outputs: list, onWritten: (m) => written.push(m.id) });
    const handler = new StrictHandler(printer, (m) => printer.lint(m));
    await assert.rejects(handler.handleMessage(SLOPPY), (err: unknown) => {
      assert.ok(err instanceof StrictRejection);
      assert.equal(err.reply.code, 550);
      assert.deepEqual(err.reply.lines, [
        'Error: message rejected by --strict: missing-from: no From header (RFC 5322 3.6: required)',
      ]);
      return true;
    });
    assert.deepEqual([raw.texts, json.texts, written], [[], [], []]);
  });

  it('keeps the 550 text printable ASCII', async () => {
    const message = makeMessage('From: a@example.com\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n\nx\n', {
      rcptTos: ['jörg@example.com'],
    });
    const printer = new OutputHandler({ outputs: [] });
    await assert.rejects(new StrictHandler(printer, (m) => printer.lint(m)).handleMessage(message), (err: unknown) => {
      assert.ok(err instanceof StrictRejection);
      assert.match(err.reply.lines[0]!, /^[\x20-\x7e]+$/);
      assert.match(err.reply.lines[0]!, /'j\\xf6rg@example\.com'/);
      return true;
    });
  });

  it('lints a large message in the render worker, with the findings of this thread', async () => {
    const big = makeMessage(`Subject: big\n\n${'x'.repeat(80)}\n`.repeat(1) + `${'y'.repeat(76)}\n`.repeat(14_000));
    assert.ok(big.data.length >= 1 << 20);
    const printer = new OutputHandler({ outputs: [], offload: true });
    try {
      assert.deepEqual(await printer.lint(big), lintMessage(big));
      assert.ok((await printer.lint(big)).some((f) => f.code === 'missing-from'));
    } finally {
      await printer.close();
    }
  });

  it('calls onWritten after every output has the message, with the parsed fields when asked', async () => {
    const [raw, , list] = outputs();
    const seen: [number, string | null | undefined][] = [];
    const handler = new OutputHandler({
      outputs: [list[0]!],
      parseAlways: true,
      onWritten: (_m, c) => seen.push([raw.texts.length, c.parsed?.subject]),
    });
    await handler.handleMessage(SLOPPY);
    assert.deepEqual(seen, [[1, 'no date']]);
  });
});
