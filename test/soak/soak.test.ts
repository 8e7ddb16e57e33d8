/**
 * The soak test in CI's short mode (test/soak/soak.ts; run it long by hand,
 * see the README): 200 clients, 2,000 messages with drops, against the real
 * CLI, once left running and once stopped by SIGTERM halfway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SHORT, soak, summary, type SoakReport } from './soak.js';

const SEED = 20261123;

function assertPassed(report: SoakReport): void {
  assert.deepEqual(report.problems, [], summary(report));
  // The run was a real soak: most mail arrived, and every kind of drop happened.
  assert.ok(report.outcomes.accepted > report.started / 2, summary(report));
  for (const fate of ['drop-command', 'drop-data', 'drop-after-dot'] as const)
    assert.ok((report.fates[fate] ?? 0) > 0, `no ${fate}: ${summary(report)}`);
}

describe('soak (short mode)', () => {
  it('puts every message that got a 250 in the JSON output once, and no other, with 200 clients dropping connections; memory and descriptors come back; new mail is still accepted', async () => {
    const report = await soak({ variant: 'steady', ...SHORT, seed: SEED });
    assertPassed(report);
    assert.ok(report.after, summary(report));
  });

  it('exits 0 on SIGTERM under load with every 250 in the output, and answers 421 to every client still connected', async () => {
    const report = await soak({ variant: 'sigterm', ...SHORT, seed: SEED });
    assertPassed(report);
    assert.ok((report.sessions['got-421'] ?? 0) > 0, summary(report));
    assert.equal(report.fates.stall, 5, summary(report));
  });
});
