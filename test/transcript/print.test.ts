import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDialogue, formatSessionEnd, printSessionJson } from '../../src/transcript/print.js';
import { Transcript } from '../../src/transcript/transcript.js';

const at = '2024-01-01T10:00:00.123Z';

describe('transcript printing', () => {
  it('prints each line with its time and direction, terminal-safe, coloured by direction', () => {
    const lines = [
      { at, dir: 'client' as const, text: 'NOOP \x1b[31mred' },
      { at, dir: 'server' as const, text: '250 OK' },
      { at, dir: 'event' as const, text: 'rule fired: NOOP=delay:1s' },
    ];
    assert.equal(
      formatDialogue(lines),
      '10:00:00.123 C: NOOP \\x1b[31mred\n10:00:00.123 S: 250 OK\n10:00:00.123 *  rule fired: NOOP=delay:1s\n',
    );
    const style = {
      frame: (s: string) => s,
      headerName: (s: string) => s,
      subject: (s: string) => s,
      client: (s: string) => `<C>${s}</C>`,
      server: (s: string) => `<S>${s}</S>`,
    };
    assert.equal(
      formatDialogue(lines.slice(0, 2), style),
      '<C>10:00:00.123 C: NOOP \\x1b[31mred</C>\n<S>10:00:00.123 S: 250 OK</S>\n',
    );
  });

  it('hands each line to human formats once: before a message, then the rest at the end', () => {
    const t = new Transcript('1.s1');
    t.add('client', 'EHLO x');
    assert.equal(t.takeUnprinted().length, 1);
    t.add('client', 'QUIT');
    t.ended('quit');
    t.ended('client-closed');
    const record = t.toRecord({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 25 });
    assert.equal(record.end, 'quit', 'the first cause wins');
    assert.equal(record.dialogue.length, 2);
    assert.match(formatSessionEnd(record, t.takeUnprinted()), /^\S+ C: QUIT\n-+ SESSION 1\.s1 ENDED: quit -+\n$/);
    assert.match(printSessionJson(record), /^\{"type":"session","schemaVersion":1,"id":"1\.s1",.*\}\n$/);
  });
});
