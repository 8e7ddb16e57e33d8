/**
 * MailHog's `containing` search reads a large message in slices, with
 * turns of the event loop between them: the same answers as reading it
 * whole (a match across two slices included), without holding the thread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailhogSearch } from '../../src/http/mailhog-shapes.js';
import { MessageStore } from '../../src/inbox/message-store.js';
import { makeMessage } from '../helpers/message.js';

describe("MailHog's containing search", () => {
  // 3 MiB, with a word across the 1 MiB cut and one in its last bytes.
  const cut = 1 << 20;
  const head = 'Subject: large\r\n\r\n';
  const filler = 'x'.repeat(cut - head.length - 5);
  const raw = `${head}${filler}NeedleAcrossTheCut ${'y'.repeat(2 * cut)} Ünïcode-TAIL\r\n`;
  const entry = new MessageStore().add(makeMessage(Buffer.from(raw)));

  for (const [query, found] of [
    ['needleacrossthecut', true],
    ['NEEDLEACROSS', true],
    ['ünïcode-tail', true],
    ['subject: large', true],
    ['no-such-word', false],
  ] as const) {
    it(`${found ? 'finds' : 'does not find'} '${query}'`, async () => {
      const match = mailhogSearch('containing', query)!.test(entry);
      assert.ok(match instanceof Promise, 'a large message is read in slices');
      assert.equal(await match, found);
    });
  }

  it('gives other work turns while it reads', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await mailhogSearch('containing', 'no-such-word')!.test(entry);
    clearInterval(ticker);
    assert.ok(turns >= 2, `${turns} turns`);
  });

  it('answers a small message at once', () => {
    const small = new MessageStore().add(makeMessage(Buffer.from('Subject: Small One\r\n\r\nbody\r\n')));
    assert.equal(mailhogSearch('containing', 'small one')!.test(small), true);
  });
});
