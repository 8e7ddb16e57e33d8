import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SESSION_JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { Transcript, TRANSCRIPT_HEAD_LINES, TRANSCRIPT_TAIL_LINES } from '../../src/transcript/transcript.js';
import { validate } from '../helpers/json-schema.js';

const endpoint = { address: '127.0.0.1', port: 1 };

describe('the transcript', () => {
  it('keeps every line of a short session, and leaves none out', () => {
    const t = new Transcript('s1');
    for (let i = 0; i < 10; i++) t.add('client', `NOOP ${i}`);
    const record = t.toRecord(endpoint, endpoint);
    assert.deepEqual(
      record.dialogue.map((l) => l.text),
      Array.from({ length: 10 }, (_, i) => `NOOP ${i}`),
    );
    assert.equal(record.omittedLines, 0);
  });

  it('keeps the start and the end of a session of a million lines, and counts the rest', () => {
    const t = new Transcript('s2');
    const n = 1_000_000;
    for (let i = 0; i < n; i++) t.add(i % 2 ? 'server' : 'client', `${i}`);
    const record = t.toRecord(endpoint, endpoint);
    const left = n - TRANSCRIPT_HEAD_LINES - TRANSCRIPT_TAIL_LINES;
    assert.equal(record.omittedLines, left);
    assert.equal(record.dialogue.length, TRANSCRIPT_HEAD_LINES + 1 + TRANSCRIPT_TAIL_LINES);
    assert.equal(record.dialogue[TRANSCRIPT_HEAD_LINES - 1]!.text, `${TRANSCRIPT_HEAD_LINES - 1}`);
    assert.deepEqual(
      { ...record.dialogue[TRANSCRIPT_HEAD_LINES]!, at: '' },
      { at: '', dir: 'event', text: `[${left} lines left out]` },
    );
    assert.equal(record.dialogue.at(-1)!.text, `${n - 1}`);
    assert.deepEqual(validate(SESSION_JSON_SCHEMA, JSON.parse(JSON.stringify(record))), []);
  });

  it('hands human formats each line once, with a gap line for what was left out unprinted', () => {
    const t = new Transcript('s3');
    for (let i = 0; i < 5; i++) t.add('client', `a${i}`);
    assert.deepEqual(
      t.takeUnprinted().map((l) => l.text),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
    for (let i = 0; i < 10_000; i++) t.add('client', `b${i}`);
    const next = t.takeUnprinted().map((l) => l.text);
    assert.deepEqual(
      next.slice(0, TRANSCRIPT_HEAD_LINES - 5),
      Array.from({ length: TRANSCRIPT_HEAD_LINES - 5 }, (_, i) => `b${i}`),
    );
    assert.match(next[TRANSCRIPT_HEAD_LINES - 5]!, /^\[\d+ lines left out\]$/);
    assert.equal(next.at(-1), 'b9999');
    assert.deepEqual(t.takeUnprinted(), []);
  });

  it('keeps only each message’s lines when the session’s record is not wanted (the inbox’s dialogue), bounded', () => {
    const t = new Transcript('s1', false);
    t.add('client', 'MAIL FROM:<a@b>');
    t.add('server', '250 OK');
    assert.deepEqual(
      t.takeUnprinted().map((l) => [l.dir, l.text]),
      [
        ['client', 'MAIL FROM:<a@b>'],
        ['server', '250 OK'],
      ],
    );
    assert.deepEqual(t.takeUnprinted(), [], 'each line is taken once');
    for (let i = 0; i < TRANSCRIPT_TAIL_LINES + 5; i++) t.add('client', 'NOOP');
    const lines = t.takeUnprinted();
    assert.equal(lines.length, TRANSCRIPT_TAIL_LINES + 1);
    assert.equal(lines.at(-1)!.text, '[5 lines left out]');
    assert.deepEqual(t.lines, [], 'no session record');
  });
});
