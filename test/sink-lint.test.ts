/** The library's sink carries each message's lint findings, so a Node test can assert the sender is clean. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSink, type Sink } from '../src/sink.js';
import { deliver } from './helpers/fixtures.js';

describe('startSink and the lint', () => {
  let sink: Sink;
  before(async () => {
    sink = await startSink();
  });
  after(() => sink?.close());

  it('gives every message its findings', async () => {
    await deliver(
      sink.port,
      { from: 'app@example.test', to: ['user@example.test'] },
      'From: app@example.test\r\nSubject: hi\r\n\r\nbody\r\n',
    );
    const [mail] = await sink.waitForMessages(1, { timeout: 5000 });
    assert.deepEqual(
      mail!.lint.map((f) => `${f.severity} ${f.code}`),
      ['error missing-date', 'warning missing-message-id'],
    );
  });
});
