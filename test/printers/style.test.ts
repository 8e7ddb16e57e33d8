import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadColorStyle, PLAIN, wantsColor } from '../../src/printers/style.js';

describe('wantsColor', () => {
  const cases: [string, boolean | undefined, Record<string, string>, boolean, boolean][] = [
    ['a terminal', undefined, {}, true, true],
    ['a pipe or file', undefined, {}, false, false],
    ['NO_COLOR on a terminal', undefined, { NO_COLOR: '1' }, true, false],
    ['an empty NO_COLOR (ignored, per no-color.org)', undefined, { NO_COLOR: '' }, true, true],
    ['FORCE_COLOR on a pipe', undefined, { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR over NO_COLOR', undefined, { FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 on a terminal', undefined, { FORCE_COLOR: '0' }, true, false],
    ['--color on a pipe with NO_COLOR', true, { NO_COLOR: '1' }, false, true],
    ['--no-color on a terminal with FORCE_COLOR', false, { FORCE_COLOR: '3' }, true, false],
  ];
  for (const [what, flag, env, isTTY, expected] of cases) {
    it(`is ${expected ? 'on' : 'off'} for ${what}`, () => {
      assert.equal(wantsColor({ flag, env, isTTY }), expected);
    });
  }
});

describe('the colour style', () => {
  it('wraps text in SGR sequences, and the plain style does not', async () => {
    const style = await loadColorStyle();
    assert.match(style.frame('x'), /^\x1b\[[0-9;]+mx\x1b\[[0-9;]+m$/);
    assert.match(style.subject('x'), /\x1b\[/);
    assert.equal(PLAIN.headerName('x'), 'x');
  });
});
