import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { JsonlCounter } from '../../../src/cli/wait/jsonl-counter.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('JsonlCounter', () => {
  const dir = tempDir('jsonl-counter');

  it('counts message lines and skips --transcript session lines, even split across appends', async () => {
    const file = dir.join('mail.jsonl');
    const counter = new JsonlCounter(file);
    await appendFile(file, '{"type":"message","id":"1"}\n{"type":"sess');
    assert.equal(await counter.count(), 1);
    await appendFile(file, 'ion","id":"s1"}\n{"schemaVersion":1}\n{"type":"message"');
    assert.equal(await counter.count(), 2, 'a line without a type (an older smtpd-ts) still counts');
    await appendFile(file, '}\n');
    assert.equal(await counter.count(), 3);
    await appendFile(file, '{"type":"withdrawn","schemaVersion":1,"id":"3","reason":"cannot write"}\n');
    assert.equal(await counter.count(), 2, 'a withdrawn message no longer counts');
  });
});
