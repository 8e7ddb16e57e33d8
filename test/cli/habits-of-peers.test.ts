/**
 * What users of Mailpit and MailDev type out of habit: Mailpit's names for
 * the addresses (`--smtp`, `--listen`), a bare port for the SMTP address as
 * for `--http`, a unit on every duration, and a mistyped command said as one
 * before its options are taken for the sink's.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/cli.js';
import { toConfig, type CliOptions } from '../../src/cli/config.js';
import { UsageError } from '../../src/errors.js';

const config = (options: Partial<CliOptions>, args: string[] = []) =>
  toConfig({ class: 'DebuggingServer', ...options }, args);

/** Runs the CLI in this process; resolves with the exit code and what it said on stderr. */
async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (s: Buffer) => (err += s.toString()));
  return { code: await main(argv, { stdout, stderr }), err };
}

describe('the habits of the peers’ users', () => {
  it('takes a bare port for the SMTP address, on 127.0.0.1, as --http takes one', () => {
    assert.deepEqual(config({}, ['1025']).local, { host: '127.0.0.1', port: 1025 });
    assert.deepEqual(config({}, ['0.0.0.0:25']).local, { host: '0.0.0.0', port: 25 });
  });

  it("takes Mailpit's --smtp and --listen for the two addresses, and refuses either twice", () => {
    const c = config({ smtp: '127.0.0.1:2525', listen: '127.0.0.1:8026' });
    assert.deepEqual(c.local, { host: '127.0.0.1', port: 2525 });
    assert.deepEqual(c.inbox?.listen, { host: '127.0.0.1', port: 8026 });
    assert.deepEqual(config({ smtp: '2525' }).local, { host: '127.0.0.1', port: 2525 });
    assert.throws(() => config({ smtp: '2525' }, ['1025']), UsageError);
    assert.throws(() => config({ listen: '8026', http: true }), UsageError);
  });

  it('takes a unit on --timeout as on every other duration', () => {
    assert.equal(config({ timeout: '5s' }).timeoutSeconds, 5);
    assert.equal(config({ timeout: '2m' }).timeoutSeconds, 120);
    assert.equal(config({ timeout: '1.5' }).timeoutSeconds, 1.5);
    assert.throws(() => config({ timeout: 'soon' }), /--timeout needs a number of seconds \(or 90s, 5m, 1h\)/);
  });

  it('says a mistyped command is one, with the command meant, before its options are read', async () => {
    const { code, err } = await run(['sendmial', '-t']);
    assert.equal(code, 2);
    assert.match(err, /^smtpd-ts: unknown command 'sendmial' \(did you mean sendmail\?\)/);
    assert.equal(err.trim().split('\n').length, 1);
  });
});
