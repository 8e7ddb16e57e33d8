import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzzChannel } from './fuzz-channel.js';

it('survives a short random fuzz run of the channel (npm run fuzz runs it long)', () => {
  const { cases, failure } = fuzzChannel(3, 1123);
  assert.equal(failure, undefined);
  assert.ok(cases > 100, `only ${cases} cases ran`);
});
