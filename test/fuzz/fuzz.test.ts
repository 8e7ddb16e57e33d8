import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzzChannel } from './fuzz-channel.js';
import { fuzzMessages } from './fuzz-message.js';

it('survives a short random fuzz run of the channel (npm run fuzz runs it long)', () => {
  const { cases, failure } = fuzzChannel(3, 1123);
  assert.equal(failure, undefined);
  assert.ok(cases > 100, `only ${cases} cases ran`);
});

it('reads hostile mail text in every printer, the lint and the parse within its time budget (npm run fuzz runs it long)', async () => {
  const { cases, failure } = await fuzzMessages(4, 1124);
  assert.equal(failure, undefined);
  assert.ok(cases > 20, `only ${cases} cases ran`);
});
