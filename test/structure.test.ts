/**
 * The layering, checked: the layers docs/design.md names, and no import
 * pointing up from one to another; no import cycle in src/ but the
 * documented one inside the address parser (a port of Python's, whose token
 * and encoded-word halves call each other). Type-only imports do not count
 * for cycles (they are gone at run time); for layers, they count too.
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

/**
 * Each file's imports of other files in src/, relative to src/: value
 * imports only, or (`types`) type-only ones and lazy `import()`s too.
 */
function graph(types = false): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files()) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    const resolve = (spec: string) =>
      path.relative(SRC, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts').replace(/\.tsx$/, '.tsx')));
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)';/gms)) {
      const names = /^\{([^}]*)\}$/.exec(m[2]!.trim());
      const typeOnly =
        m[1] !== undefined ||
        (names !== null && names[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type ')));
      if (!typeOnly || types) deps.push(resolve(m[3]!));
    }
    if (types) for (const m of text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)) deps.push(resolve(m[1]!));
    out.set(path.relative(SRC, file), deps);
  }
  return out;
}

/**
 * The layers of docs/design.md, lowest first: a file may import its own
 * layer's and lower layers' files, never a higher layer's.
 */
const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  [
    'core',
    [
      'channel/',
      'errors.ts',
      'version.ts',
      'duration.ts',
      'slices.ts',
      'header-block.ts',
      'worker-pool.ts',
      'loopback.ts',
      'exit-codes.ts',
      'finding.ts',
      'pop3/channel.ts',
    ],
  ],
  // A message as the channel hands it on, and what reads it. The relay's outcome is data the printers and
  // the inbox show, with no relaying in it.
  [
    'reading',
    [
      'message.ts',
      'envelope.ts',
      'mime/',
      'lint/',
      'printers/',
      'transcript/',
      'rules/',
      'mailboxes.ts',
      'relay/outcome.ts',
    ],
  ],
  ['keeping', ['inbox/', 'outputs/', 'relay/']],
  ['serving', ['server/', 'handlers/', 'http/', 'expect/', 'pop3/']],
  ['top', ['cli/', 'sink.ts', 'index.ts']],
];

/** The layer a file of src/ is in (its index in LAYERS), or -1 when none names it. */
function layerOf(file: string): number {
  return LAYERS.findIndex(([, places]) => places.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

/** Each import that points up a layer, as `from -> to`; files no layer names, as `from: no layer`. */
function upward(g: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, deps] of g) {
    const here = layerOf(from);
    if (here < 0) found.push(`${from}: no layer`);
    for (const to of deps) if (layerOf(to) > here) found.push(`${from} -> ${to}`);
  }
  return found;
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

it('has every file of src/ in a layer, and no import (type-only ones included) pointing up a layer', () => {
  const g = graph(true);
  // The web UI is the browser's: bundled on its own, importing only its own files.
  for (const file of g.keys()) if (file.startsWith('web/')) g.delete(file);
  assert.ok(g.size > 80, `only ${g.size} files read`);
  assert.deepEqual(upward(g), []);
});

it('finds an import pointing up, and a file in no layer (the layer check is not a stub)', () => {
  assert.deepEqual(
    upward(
      new Map([
        ['inbox/message-store.ts', ['http/search.ts', 'channel/reply.ts']],
        ['cli/start.ts', ['inbox/message-store.ts']],
        ['elsewhere.ts', []],
      ]),
    ),
    ['inbox/message-store.ts -> http/search.ts', 'elsewhere.ts: no layer'],
  );
});

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
