/** --expect and --expect-count parsing: what is accepted, and errors that point at the bad part. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCountRange, parseExpectation } from '../../src/expect/parse.js';
import { ExpectSyntaxError } from '../../src/errors.js';

describe('parseExpectation', () => {
  it('reads FIELD OP VALUE, with every operator', () => {
    for (const op of ['=', '!=', '~', '!~'] as const) {
      const e = parseExpectation(`subject${op}Welcome`);
      assert.equal(e.quantifier, 'some');
      assert.deepEqual(
        e.predicates.map((p) => [p.path, p.op, p.value]),
        [[['subject'], op, 'Welcome']],
      );
    }
    for (const op of ['<', '<=', '>', '>='] as const) {
      const p = parseExpectation(`attachments${op}1`).predicates[0]!;
      assert.deepEqual([p.op, p.number, p.kind], [op, 1, 'array']);
    }
  });

  it('reads dotted paths into objects and across lists', () => {
    const p = parseExpectation('from.address=app@example.test').predicates[0]!;
    assert.deepEqual([p.path, p.kind, p.value], [['from', 'address'], 'string', 'app@example.test']);
    assert.equal(parseExpectation('attachments.size>1000').predicates[0]!.kind, 'number');
    assert.equal(parseExpectation('lint.code=missing-date').predicates[0]!.kind, 'string');
  });

  it('reads a quantifier and several predicates joined by &&', () => {
    const e = parseExpectation('every: subject~welcome && rcptTo~@example.test');
    assert.equal(e.quantifier, 'every');
    assert.deepEqual(
      e.predicates.map((p) => p.source),
      ['subject~welcome', 'rcptTo~@example.test'],
    );
    assert.equal(parseExpectation('none:lint.severity=error').quantifier, 'none');
  });

  it('reads a /regex/flags value for ~ and !~', () => {
    const p = parseExpectation('subject~/^wel+come$/i').predicates[0]!;
    assert.ok(p.regex);
    assert.equal(p.regex.flags, 'i');
    assert.equal(parseExpectation('subject=/x/').predicates[0]!.regex, null, 'only ~ reads regexes');
  });

  for (const [source, message] of [
    [
      'subjct=Welcome',
      /^bad --expect 'subjct=Welcome': unknown field 'subjct' \(fields: type, schemaVersion, id, .*subject.*\)$/,
    ],
    ['from.adress=a', /unknown field 'from\.adress' \(fields of from: name, address\)/],
    ['subject.x=a', /'subject' has no fields/],
    ['subject Welcome', /expected an operator \(!= !~ <= >= = ~ < >\) after 'subject', found 'Welcome'/],
    ['=x', /expected a field name at '=x'/],
    ['', /expected FIELD OP VALUE/],
    ['every:', /expected FIELD OP VALUE/],
    ['subject>3', /'subject' is a string: > compares numbers and list lengths/],
    ['attachments>=many', /'attachments>=' needs a number, not 'many'/],
    ['from=alice@example.test', /'from' is a list of objects: name one of its fields, e\.g\. from\.name/],
    ['size=big', /'size' is a number, not 'big'/],
    ['peer=127.0.0.1', /'peer' is an object: name one of its fields, e\.g\. peer\.address/],
    ['esmtp=yes', /'esmtp' is true or false, not 'yes'/],
    ['subject~/(/', /bad regular expression \/\(\//],
    ['subject=a && bogus=1', /unknown field 'bogus'/],
  ] as [string, RegExp][]) {
    it(`rejects ${JSON.stringify(source)} with a message naming the bad part`, () => {
      assert.throws(
        () => parseExpectation(source),
        (err: unknown) => {
          assert.ok(err instanceof ExpectSyntaxError);
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }
});

describe('parseCountRange', () => {
  for (const [source, min, max] of [
    ['3', 3, 3],
    ['0', 0, 0],
    ['2..5', 2, 5],
    ['>=1', 1, Infinity],
    ['>1', 2, Infinity],
    ['<=4', 0, 4],
    ['<4', 0, 3],
  ] as [string, number, number][]) {
    it(`reads ${source} as ${min}..${max}`, () => {
      assert.deepEqual(parseCountRange(source), { source, min, max });
    });
  }

  for (const source of ['', 'x', '5..2', '-1', '<0', '1..', '=3']) {
    it(`rejects ${JSON.stringify(source)}`, () => {
      assert.throws(
        () => parseCountRange(source),
        /^ExpectSyntaxError: bad --expect-count '.*': expected N, MIN\.\.MAX/,
      );
    });
  }
});
