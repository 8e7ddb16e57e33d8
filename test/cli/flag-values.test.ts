import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, parseSize } from '../../src/cli/flag-values.js';
import { UsageError } from '../../src/errors.js';

describe('sizes', () => {
  it('are bytes, or a number with the units people write', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['1000', 1000],
      ['512k', 512 * 1024],
      ['512K', 512 * 1024],
      ['10MiB', 10 * 2 ** 20],
      ['10m', 10 * 2 ** 20],
      ['10MB', 10_000_000],
      ['1.5GiB', 1.5 * 2 ** 30],
      ['2kb', 2000],
      ['100b', 100],
    ];
    for (const [text, bytes] of cases) assert.equal(parseSize(text, '-s'), bytes, text);
  });

  it('refuse anything else with a usage error naming the flag', () => {
    for (const bad of ['', 'lots', '-5', '10XB', '1.5', '1e3', 'MB', '9'.repeat(20)])
      assert.throws(
        () => parseSize(bad, '-s/--size'),
        (e: unknown) => e instanceof UsageError && /-s\/--size/.test(e.message),
        bad,
      );
  });
});

describe('suggestions', () => {
  it('name the closest candidate a typo or two away, and nothing for a stranger', () => {
    assert.equal(didYouMean('wiat', ['wait', 'sendmail']), ' (did you mean wait?)');
    assert.equal(didYouMean('sendmial', ['wait', 'sendmail']), ' (did you mean sendmail?)');
    assert.equal(didYouMean('debuggingserver', ['DebuggingServer', 'PureProxy']), ' (did you mean DebuggingServer?)');
    assert.equal(didYouMean('foo', ['wait', 'sendmail']), '');
  });
});
