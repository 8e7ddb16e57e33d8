import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BRIEF_TEXT_CHARS } from '../../src/mime/parse-message.js';
import { OutputHandler } from '../../src/handlers/outputs.js';
import { RenderPool } from '../../src/handlers/render-pool.js';
import { FORMATS } from '../../src/printers/registry.js';
import { PLAIN } from '../../src/printers/style.js';
import { MemoryDestination } from '../helpers/memory-destination.js';
import { makeMessage } from '../helpers/message.js';

/** A 2 MiB message with everything the printers escape. */
const big = makeMessage(
  Buffer.concat([
    Buffer.from(
      'From: A <a@example.test>\r\nSubject: big \x1b[2J\u202e\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n',
    ),
    Buffer.from('line \x1b]0;t\x07 \u009b é\r\n'.repeat(100_000)),
  ]),
);

const outputs = () =>
  (['raw', 'headers', 'parsed', 'json'] as const).map((name) => ({
    format: FORMATS[name],
    style: PLAIN,
    destination: new MemoryDestination(name),
  }));

describe('the render worker', () => {
  it('formats a large message exactly as the server thread does, for every format', { timeout: 60_000 }, async () => {
    const here = outputs();
    const there = outputs();
    const seen: unknown[] = [];
    await new OutputHandler({ outputs: here, showLint: true }).handleMessage(big);
    const offloaded = new OutputHandler({
      outputs: there,
      showLint: true,
      offload: true,
      // The whole parse comes back where the expectations need it, else only the brief the inbox keeps.
      parseAlways: true,
      onWritten: (_m, c) => seen.push(c.parsed?.subject, c.brief),
    });
    await offloaded.handleMessage(big);
    await offloaded.close();
    for (let i = 0; i < here.length; i++)
      assert.equal(there[i]!.destination.texts[0], here[i]!.destination.texts[0], here[i]!.destination.name);
    assert.deepEqual(seen, ['big \x1b[2J\u202e', undefined]);
    const given: unknown[] = [];
    const briefly = new OutputHandler({
      outputs: outputs(),
      offload: true,
      briefFrom: 1024,
      onWritten: (_m, c) => given.push(c.parsed, c.brief?.subject, c.brief?.html, c.brief?.text?.length),
    });
    await briefly.handleMessage(big);
    await briefly.close();
    assert.deepEqual(given, [undefined, 'big \x1b[2J\u202e', null, BRIEF_TEXT_CHARS]);
  });

  it(
    'gives up on a message that takes too long, and starts a new worker for the next',
    { timeout: 60_000 },
    async () => {
      const pool = new RenderPool();
      const job = {
        message: big,
        extra: {},
        settings: { lints: true, parses: true, showLint: false, includeRaw: false, showDialogue: false },
        outputs: [{ format: 'json' as const, colored: false }],
        wantParsed: false,
      };
      await assert.rejects(pool.render(job, 1), /formatting the message took longer than 1 ms/);
      const reply = await pool.render(job);
      assert.match(Buffer.from(reply.rendered[0]!).toString(), /^\{"type":"message"/);
      await pool.close();
    },
  );
});
