import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeIoError } from '../../src/outputs/output.js';
import { OutputError, ReplyError } from '../../src/errors.js';

describe('describeIoError', () => {
  it("puts Node's system error message in words, with its code, without the syscall and path", () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/var/log/x'"), { code: 'EACCES' });
    assert.equal(describeIoError(e), 'permission denied (EACCES)');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.equal(describeIoError(full), 'no space left on device (ENOSPC)');
  });

  it('leaves other errors as they are', () => {
    assert.equal(describeIoError(new Error('plain')), 'plain');
    assert.equal(describeIoError('text'), 'text');
  });
});

describe('OutputError', () => {
  it('is a ReplyError answering 451, with a stable code', () => {
    const e = new OutputError('cannot write');
    assert.ok(e instanceof ReplyError);
    assert.equal(e.reply.code, 451);
    assert.equal(e.code, 'ERR_SMTPD_OUTPUT');
    assert.equal(e.name, 'OutputError');
  });
});
