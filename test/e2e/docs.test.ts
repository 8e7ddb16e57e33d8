/**
 * The manual agrees with the program: the flag table in docs/usage.md
 * names exactly the flags `smtpd-ts --help` lists, and every relative link
 * in README.md and docs/ leads to a file that exists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT } from '../helpers/cli.js';

/** The long (or only) name of each flag on a `-x, --long <value>` line. */
function flagNames(specs: readonly string[]): string[] {
  return specs
    .map((s) =>
      s
        .split(/[ ,]+/)
        .filter((w) => w.startsWith('-'))
        .at(-1)!,
    )
    .sort();
}

describe('the manual', () => {
  it('lists every flag of --help in docs/usage.md, and no other', () => {
    const help = execFileSync(process.execPath, [...NODE_ARGS, '--help'], { cwd: ROOT, encoding: 'utf8' });
    // The options are grouped by topic: everything between the arguments and the commands.
    const options = help.slice(help.indexOf('\nOutput:\n'), help.indexOf('\nCommands:\n'));
    const fromHelp = flagNames([...options.matchAll(/^ {2}(-[^ ].*?)(?: {2,}|$)/gm)].map((m) => m[1]!));
    const usage = readFileSync(path.join(ROOT, 'docs', 'usage.md'), 'utf8');
    const table = usage.slice(usage.indexOf('## Every flag'));
    const fromDocs = flagNames([...table.matchAll(/^\| `(-[^`]+)` \|/gm)].map((m) => m[1]!));
    assert.ok(fromHelp.length > 50, `only ${fromHelp.length} flags read from --help`);
    assert.deepEqual(fromDocs, fromHelp);
  });

  it('links only to files that exist', () => {
    const pages = [
      'README.md',
      'CHANGELOG.md',
      'SECURITY.md',
      ...readdirSync(path.join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(ROOT, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
        if (!existsSync(path.resolve(ROOT, path.dirname(page), target!))) broken.push(`${page}: ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
