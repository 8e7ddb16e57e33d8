/**
 * Every regular expression in src/ is checked for super-linear backtracking
 * (ReDoS) by recheck, a checker made for this: a pattern that sees mail,
 * envelope or command text must not let a peer freeze the event loop.
 * Literals are found in the source; patterns built with `new RegExp` are
 * caught as the modules build them at import. Patterns the operator writes
 * (`--deliver /re/`, `--reply VERB~re`, `--expect f ~ /re/`) are not peer
 * data and are listed apart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkSync } from 'recheck';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Files whose `new RegExp` compiles a pattern given on the command line. */
const OPERATOR_PATTERNS = new Set(['relay/routes.ts', 'rules/parse.ts', 'expect/parse.ts']);

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

interface Found {
  readonly where: string;
  readonly source: string;
  readonly flags: string;
}

/** Regex literals, and the files that call `new RegExp`. */
function scan(file: string): { literals: Found[]; constructs: number } {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const literals: Found[] = [];
  let constructs = 0;
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const raw = node.getText(sf);
      const end = raw.lastIndexOf('/');
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      literals.push({
        where: `${path.relative(SRC, file)}:${line}`,
        source: raw.slice(1, end),
        flags: raw.slice(end + 1),
      });
    }
    if (ts.isNewExpression(node) && node.expression.getText(sf) === 'RegExp') constructs++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { literals, constructs };
}

function verdict(found: Found): string | null {
  // recheck's automaton and fuzz checks; `g`/`y` do not change matching cost.
  const result = checkSync(found.source, found.flags.replace(/[gy]/g, ''), { timeout: 10_000 });
  if (result.status === 'safe') return null;
  const attack = result.status === 'vulnerable' ? ` (attack: ${result.attack.pattern})` : ` (${result.status})`;
  return `${found.where} /${found.source}/${found.flags}${attack}`;
}

describe('regular expressions in src/', () => {
  const files = sourceFiles();
  const built: Found[] = [];
  const Original = RegExp;

  before(async () => {
    // Catch the patterns that modules build at import time, with the file that built them.
    globalThis.RegExp = new Proxy(Original, {
      construct(target, args: [string | RegExp, string?]) {
        const caller = (new Error().stack ?? '').split('\n').find((l) => l.includes(SRC)) ?? '';
        const rel = path.relative(SRC, (/\((.*?):\d+:\d+\)$/.exec(caller)?.[1] ?? caller).replace(/^file:\/\//, ''));
        const source = typeof args[0] === 'string' ? args[0] : args[0].source;
        built.push({ where: `${rel} (built)`, source, flags: args[1] ?? '' });
        return Reflect.construct(target, args);
      },
    });
    try {
      for (const file of files) if (!file.endsWith(`${path.sep}run.ts`)) await import(pathToFileURL(file).href);
    } finally {
      globalThis.RegExp = Original;
    }
  });
  after(() => {
    globalThis.RegExp = Original;
  });

  it('finds every literal and checks each one: none backtracks super-linearly', () => {
    const literals = files.flatMap((f) => scan(f).literals);
    assert.ok(literals.length > 50, `only ${literals.length} literals found: the scan is broken`);
    assert.deepEqual(
      literals.map(verdict).filter((v) => v !== null),
      [],
    );
  });

  it('checks every pattern built at import: none backtracks super-linearly', () => {
    const builders = files.filter((f) => scan(f).constructs > 0).map((f) => path.relative(SRC, f));
    const buildsAtImport = builders.filter((f) => !OPERATOR_PATTERNS.has(f));
    // Each file that builds patterns from constants was seen building one.
    for (const file of buildsAtImport)
      assert.ok(
        built.some((b) => b.where.startsWith(file)),
        `${file}: new RegExp not seen at import`,
      );
    assert.ok(built.length >= buildsAtImport.length);
    assert.deepEqual(
      built.map(verdict).filter((v) => v !== null),
      [],
    );
  });

  it('flags a pattern it should (the checker is not a stub)', () => {
    assert.notEqual(verdict({ where: 'probe', source: '^(?:a+|b)*$', flags: '' }), null);
    assert.equal(verdict({ where: 'probe', source: '^[ab]*$', flags: '' }), null);
  });
});
