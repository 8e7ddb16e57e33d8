/**
 * A small JSON Schema validator, for the subset `src/printers/json-schema.ts`
 * uses: type (one or a list), const, properties, required,
 * additionalProperties: false, items, minimum, maximum, pattern, and the
 * `date-time` format and `base64` content encoding. Anything else in a
 * schema is an error, so the schema cannot outgrow what is checked.
 */
type Schema = Readonly<Record<string, unknown>>;

const KNOWN = new Set([
  '$schema',
  '$id',
  'title',
  'type',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minimum',
  'maximum',
  'pattern',
  'format',
  'contentEncoding',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Returns every way `value` breaks `schema`, as `path: problem` lines; empty when it validates. */
export function validate(schema: Schema, value: unknown, at = '$'): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema))
    if (!KNOWN.has(key)) errors.push(`${at}: schema keyword '${key}' is not supported`);
  if ('const' in schema && value !== schema['const']) errors.push(`${at}: expected ${JSON.stringify(schema['const'])}`);
  if (schema['type'] !== undefined) {
    const types = ([] as unknown[]).concat(schema['type']);
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
      return [...errors, `${at}: expected ${types.join(' or ')}, got ${actual}`];
    }
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum'])
      errors.push(`${at}: below ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum'])
      errors.push(`${at}: above ${schema['maximum']}`);
  }
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(value))
      errors.push(`${at}: does not match ${schema['pattern']}`);
    if (schema['format'] === 'date-time' && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))))
      errors.push(`${at}: not a date-time`);
    if (schema['contentEncoding'] === 'base64' && !BASE64.test(value)) errors.push(`${at}: not base64`);
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((item, i) => errors.push(...validate(schema['items'] as Schema, item, `${at}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const key of (schema['required'] ?? []) as string[])
      if (!(key in object)) errors.push(`${at}: missing '${key}'`);
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) errors.push(...validate(properties[key], item, `${at}.${key}`));
      else if (schema['additionalProperties'] === false) errors.push(`${at}: unexpected '${key}'`);
    }
  }
  return errors;
}
