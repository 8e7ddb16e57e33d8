import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../src/errors.js';
import * as library from '../src/index.js';

describe('errors', () => {
  it('are all in one module, exported by the library, each with its name and a stable ERR_SMTPD_ code', () => {
    const made: Error[] = [
      new errors.UsageError('u'),
      new errors.StartError('s'),
      new errors.RuleSyntaxError('r'),
      new errors.ExpectSyntaxError('e'),
      new errors.ChannelUsageError('c'),
      new errors.ReplyError({ code: 550, lines: ['no'] }, 'r'),
      new errors.OutputError('o'),
      new errors.StrictRejection(
        { code: 550, lines: ['no'] },
        { code: 'missing-date', severity: 'error', message: 'm' },
      ),
      new errors.MessageParseError('p'),
      new errors.SinkTimeoutError('t', []),
      new errors.WorkerJobError('w', 'failed'),
      new errors.HttpError(404, 'h'),
      new errors.SearchTimeoutError('s'),
      new errors.SendError('refused'),
      new errors.WebhookRefusedError('internal'),
    ];
    const exported = Object.entries(errors).filter(([, v]) => typeof v === 'function' && v !== errors.SmtpdError);
    assert.equal(made.length, exported.length, 'a new error class needs a line here');
    const codes = new Set<string>();
    for (const e of made) {
      assert.ok(e instanceof errors.SmtpdError);
      assert.equal(e.name, e.constructor.name);
      assert.match((e as errors.SmtpdError).code, /^ERR_SMTPD_[A-Z_]+$/);
      codes.add((e as errors.SmtpdError).code);
      assert.equal((library as Record<string, unknown>)[e.constructor.name], e.constructor);
    }
    assert.equal(codes.size, made.length, 'every class has its own code');
  });

  it('give a reply error its reply, and an output error the 451', () => {
    const out = new errors.OutputError('disk full');
    assert.ok(out instanceof errors.ReplyError);
    assert.equal(out.reply.code, 451);
  });
});
