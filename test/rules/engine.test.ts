import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleEvent } from '../../src/channel/config.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRule } from '../../src/rules/parse.js';

const engine = (seed: number, ...rules: string[]) => new RuleEngine(rules.map(parseRule), seed);
const codes = (e: RuleEngine, events: RuleEvent[]) => events.map((ev) => e.decide(ev)?.reply?.code ?? null);
const times = (n: number, ev: RuleEvent) => Array.from({ length: n }, () => ev);

describe('RuleEngine', () => {
  it('fires on matching subjects only', () => {
    const e = engine(1, 'RCPT~bounce@=550 5.1.1 No such user');
    assert.deepEqual(
      codes(e, [
        { verb: 'RCPT', subject: 'TO:<a@x>' },
        { verb: 'RCPT', subject: 'TO:<bounce@x>' },
        { verb: 'MAIL', subject: 'FROM:<bounce@x>' },
      ]),
      [null, 550, null],
    );
  });

  it('counts occurrences among matching events: the Nth, from the Nth, every Nth', () => {
    const eod: RuleEvent = { verb: 'EOD', subject: '' };
    assert.deepEqual(codes(engine(1, 'EOD#3=451 later'), times(5, eod)), [null, null, 451, null, null]);
    assert.deepEqual(codes(engine(1, 'EOD#3+=451 later'), times(5, eod)), [null, null, 451, 451, 451]);
    assert.deepEqual(codes(engine(1, 'EOD#*2=451 later'), times(5, eod)), [null, 451, null, 451, null]);
  });

  it('adds up delays and stops at the first rule that replies, recording what fired', () => {
    const e = engine(1, '*=delay:100ms', 'RCPT=delay:50ms', 'RCPT=550 no', 'RCPT=551 never');
    assert.deepEqual(e.decide({ verb: 'RCPT', subject: '' }), {
      rules: ['*=delay:100ms', 'RCPT=delay:50ms', 'RCPT=550 no'],
      delayMs: 150,
      drop: false,
      reply: { code: 550, lines: ['no'] },
      close: false,
    });
    assert.equal(e.decide({ verb: 'CONNECT', subject: '' }), undefined, '* is for commands, not the greeting');
  });

  it('replays random faults exactly from the same seed, and differs with another', () => {
    const events = times(200, { verb: 'EOD', subject: '' });
    const a = codes(engine(42, 'EOD?30%=451 random'), events);
    assert.deepEqual(codes(engine(42, 'EOD?30%=451 random'), events), a);
    assert.notDeepEqual(codes(engine(43, 'EOD?30%=451 random'), events), a);
    const fired = a.filter((c) => c === 451).length;
    assert.ok(fired > 30 && fired < 90, `about 30% of 200 fired: ${fired}`);
    assert.deepEqual(codes(engine(7, 'EOD?0%=451 x'), events.slice(0, 20)), Array(20).fill(null));
    assert.deepEqual(codes(engine(7, 'EOD?100%=451 x'), events.slice(0, 20)), Array(20).fill(451));
  });
});
