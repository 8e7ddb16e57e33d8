/**
 * `--expect EXPR` and `--expect-count RANGE`, parsed once at start-up into
 * values the tracker evaluates. Fields are checked against the JSON Schema
 * of the json format (src/printers/json-schema.ts), so an expectation can
 * name exactly what `-f json` prints, and a typo is a usage error at start,
 * not a silent failure at exit.
 *
 *   EXPR  = [QUANTIFIER ':'] PRED { '&&' PRED }      QUANTIFIER = some | every | none
 *   PRED  = FIELD OP VALUE                            FIELD = name { '.' name }
 *   OP    = '=' | '!=' | '~' | '!~' | '<' | '<=' | '>' | '>='
 *   RANGE = N | MIN..MAX | >=N | >N | <=N | <N
 */
import { ExpectSyntaxError } from '../errors.js';
import { JSON_SCHEMA } from '../printers/json-schema.js';

export type Operator = '=' | '!=' | '~' | '!~' | '<' | '<=' | '>' | '>=';

/** Longest first, so `<=` is not read as `<`. */
const OPERATORS: readonly Operator[] = ['!=', '!~', '<=', '>=', '=', '~', '<', '>'];

/** What a field holds, as the schema says. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'array' | 'object';

/** One comparison, e.g. `rcptTo~@example.test`. */
export interface Predicate {
  /** As written, for messages. */
  readonly source: string;
  readonly path: readonly string[];
  readonly op: Operator;
  readonly value: string;
  /** The value as a number, for < <= > >= and numeric fields. */
  readonly number: number | null;
  /** `~`/`!~` with a `/regex/flags` value. */
  readonly regex: RegExp | null;
  /** The kind of the field named last. */
  readonly kind: FieldKind;
}

/** Which messages must satisfy the predicates: at least one, all, or none. */
export type Quantifier = 'some' | 'every' | 'none';

/** One `--expect`: predicates that must hold together of the same message. */
export interface Expectation {
  readonly source: string;
  readonly quantifier: Quantifier;
  readonly predicates: readonly Predicate[];
}

/** `--expect-count`: how many messages must be accepted, inclusive bounds. */
export interface CountRange {
  readonly source: string;
  readonly min: number;
  readonly max: number;
}

type SchemaNode = {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly properties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
};

function kindOf(node: SchemaNode): FieldKind {
  if ('const' in node) return typeof node.const === 'number' ? 'number' : 'string';
  const types = ([] as string[]).concat(node.type ?? []);
  if (types.includes('array')) return 'array';
  if (types.includes('object')) return 'object';
  if (types.includes('integer') || types.includes('number')) return 'number';
  if (types.includes('boolean')) return 'boolean';
  return 'string';
}

/** The schema of the field at `path` and of the items of the array it may be. */
function resolveField(
  path: readonly string[],
  bad: (why: string) => never,
): { node: SchemaNode; kind: FieldKind; items: FieldKind | null } {
  let node = JSON_SCHEMA as unknown as SchemaNode;
  path.forEach((name, i) => {
    if (kindOf(node) === 'array') node = node.items ?? {};
    const properties = node.properties;
    const here = path.slice(0, i).join('.');
    if (!properties) bad(`'${here}' has no fields (so no '${path.slice(0, i + 1).join('.')}')`);
    if (!Object.hasOwn(properties, name)) {
      bad(
        `unknown field '${path.slice(0, i + 1).join('.')}' (${here === '' ? 'fields' : `fields of ${here}`}: ${Object.keys(properties).join(', ')})`,
      );
    }
    node = properties[name]!;
  });
  const kind = kindOf(node);
  return { node, kind, items: kind === 'array' ? kindOf(node.items ?? {}) : null };
}

/** `/.../flags` as a RegExp, or null for a plain value. */
function regexValue(value: string, bad: (why: string) => never): RegExp | null {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(value);
  if (!m) return null;
  try {
    // g and y would make test() stateful across messages.
    return new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
  } catch (err) {
    return bad(`bad regular expression ${value}: ${(err as Error).message}`);
  }
}

function parsePredicate(text: string, bad: (why: string) => never): Predicate {
  const source = text.trim();
  const field = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*/.exec(source);
  if (!field) bad(`expected a field name at '${source}'`);
  const rest = source.slice(field[0].length).trimStart();
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (!op) bad(`expected an operator (${OPERATORS.join(' ')}) after '${field[0]}', found '${rest}'`);
  const value = rest.slice(op.length).trim();
  const path = field[0].split('.');
  const { kind, items } = resolveField(path, bad);
  const leaf = kind === 'array' ? items! : kind;
  const numeric = op === '<' || op === '<=' || op === '>' || op === '>=';
  const number = /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : null;
  if (numeric) {
    if (kind !== 'number' && kind !== 'array')
      bad(`'${field[0]}' is a ${kind}: ${op} compares numbers and list lengths`);
    if (number === null) bad(`'${field[0]}${op}' needs a number, not '${value}'`);
  } else {
    if (leaf === 'object') {
      const { node } = resolveField(path, bad);
      const first = Object.keys((kind === 'array' ? node.items : node)?.properties ?? {})[0] ?? 'name';
      bad(
        `'${field[0]}' is ${kind === 'array' ? 'a list of objects' : 'an object'}: name one of its fields, e.g. ${field[0]}.${first}`,
      );
    }
    if (leaf === 'number' && (op === '=' || op === '!=') && number === null)
      bad(`'${field[0]}' is a number, not '${value}'`);
    if (leaf === 'boolean' && (op === '=' || op === '!=') && value !== 'true' && value !== 'false')
      bad(`'${field[0]}' is true or false, not '${value}'`);
  }
  const regex = op === '~' || op === '!~' ? regexValue(value, bad) : null;
  return { source, path, op, value, number, regex, kind };
}

/** Parses one `--expect`; throws ExpectSyntaxError naming the bad part. */
export function parseExpectation(source: string): Expectation {
  const bad = (why: string): never => {
    throw new ExpectSyntaxError(`bad --expect '${source}': ${why}`);
  };
  const q = /^\s*(some|every|none)\s*:/.exec(source);
  const quantifier = (q?.[1] ?? 'some') as Quantifier;
  const body = q ? source.slice(q[0].length) : source;
  if (body.trim() === '') bad('expected FIELD OP VALUE, e.g. subject=Welcome');
  const predicates = body.split('&&').map((p) => parsePredicate(p, bad));
  return { source, quantifier, predicates };
}

/** Parses `--expect-count`: `N`, `MIN..MAX`, `>=N`, `>N`, `<=N`, `<N`. */
export function parseCountRange(source: string): CountRange {
  const s = source.trim();
  const n = (text: string) => Number(text);
  let m: RegExpExecArray | null;
  if ((m = /^([0-9]+)$/.exec(s))) return { source, min: n(m[1]!), max: n(m[1]!) };
  if ((m = /^([0-9]+)\.\.([0-9]+)$/.exec(s)) && n(m[1]!) <= n(m[2]!)) return { source, min: n(m[1]!), max: n(m[2]!) };
  if ((m = /^(>=|>|<=|<)\s*([0-9]+)$/.exec(s))) {
    const v = n(m[2]!);
    switch (m[1]) {
      case '>=':
        return { source, min: v, max: Infinity };
      case '>':
        return { source, min: v + 1, max: Infinity };
      case '<=':
        return { source, min: 0, max: v };
      default:
        if (v > 0) return { source, min: 0, max: v - 1 };
    }
  }
  throw new ExpectSyntaxError(
    `bad --expect-count '${source}': expected N, MIN..MAX, >=N, >N, <=N or <N (whole numbers; MIN <= MAX; <0 is never true)`,
  );
}
