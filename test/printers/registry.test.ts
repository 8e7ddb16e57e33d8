import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { FORMAT_NAMES, FORMATS, isFormatName } from '../../src/printers/registry.js';
import { ROOT } from '../helpers/cli.js';

describe('the format registry', () => {
  it('names raw, headers, parsed and json, each under its own name', () => {
    assert.deepEqual(FORMAT_NAMES, ['raw', 'headers', 'parsed', 'json']);
    for (const name of FORMAT_NAMES) assert.equal(FORMATS[name].name, name);
  });

  it('parses only for parsed and json, and colours only human formats', () => {
    assert.deepEqual(
      FORMAT_NAMES.filter((n) => FORMATS[n].parses),
      ['parsed', 'json'],
    );
    assert.deepEqual(
      FORMAT_NAMES.filter((n) => !FORMATS[n].human),
      ['json'],
    );
  });

  it('knows its names and no others, inherited ones included', () => {
    assert.ok(isFormatName('json'));
    assert.ok(!isFormatName('JSON'));
    assert.ok(!isFormatName('toString'));
  });
});

describe('lazy loading', () => {
  /**
   * Runs `code` in a child whose module loader refuses mailparser and chalk;
   * resolves with its exit code and stderr.
   */
  const withoutHeavyModules = (code: string) => {
    const hook = `export async function resolve(s, c, next) { if (s === 'mailparser' || s === 'chalk') throw new Error('loaded ' + s); return next(s, c); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const args = [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      code,
    ];
    return new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT }, (err, _stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stderr }),
      );
    });
  };

  it('importing the library and the CLI loads neither mailparser nor chalk', async () => {
    const r = await withoutHeavyModules(`await import('./src/index.ts'); await import('./src/cli/cli.ts');`);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const control = await withoutHeavyModules(`await import('mailparser');`);
    assert.match(control.stderr, /loaded mailparser/, 'the refusing loader works');
  });
});
