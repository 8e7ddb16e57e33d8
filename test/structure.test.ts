/**
 * The layering, checked: no import cycle in src/ but the documented one
 * inside the address parser (a port of Python's, whose token and
 * encoded-word halves call each other). Type-only imports do not count:
 * they are gone at run time.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ALLOWED = [['channel/address/encoded-word.ts', 'channel/address/tokens.ts']];

function files(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Each file's value imports of other files in src/, relative to src/. */
function graph(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files()) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)';/gms)) {
      if (m[1]) continue;
      const names = /^\{([^}]*)\}$/.exec(m[2]!.trim());
      if (names && names[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
      deps.push(path.relative(SRC, path.resolve(path.dirname(file), m[3]!.replace(/\.js$/, '.ts'))));
    }
    out.set(path.relative(SRC, file), deps);
  }
  return out;
}

/** The strongly connected components of more than one file (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

it("has no import cycle in src/ but the address parser's", () => {
  const g = graph();
  assert.ok(g.size > 80, `only ${g.size} files read`);
  assert.deepEqual(cycles(g), ALLOWED);
});

it('finds a cycle where there is one (the check is not a stub)', () => {
  assert.deepEqual(
    cycles(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]),
    ),
    [['a', 'b', 'c']],
  );
});
