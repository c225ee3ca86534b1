import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CONSTRAINT_OPERATORS, ConstraintSyntaxError, formatConstraint, parseConstraint, parseValues } from './constraint-syntax.js';

describe('the --constraint syntax', () => {
  it('knows exactly the operators of the GraphQL ConstraintOperator enum', () => {
    const schema = readFileSync(join(process.cwd(), 'src/schema.graphql'), 'utf8');
    const body = /enum ConstraintOperator \{([^}]*)\}/.exec(schema)![1]!;
    const enumValues = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[A-Z_]+$/.test(l));
    expect([...CONSTRAINT_OPERATORS].sort()).toEqual(enumValues.sort());
  });

  it('reads attribute, operator and the comma-separated values', () => {
    expect(parseConstraint('country IN KE,GH')).toEqual({ attribute: 'country', operator: 'IN', values: ['KE', 'GH'], inverted: false, caseInsensitive: false });
    expect(parseConstraint('  appVersion   semver-gte   2.3.0 ').operator).toBe('SEMVER_GTE');
    expect(parseConstraint('appVersion str_ends_with x').operator).toBe('STR_ENDS_WITH');
    expect(parseConstraint('country IN KE , GH').values).toEqual(['KE', 'GH']);
    expect(parseConstraint('city IN "Dar es Salaam",Nairobi').values).toEqual(['Dar es Salaam', 'Nairobi']);
    expect(parseConstraint('note STR_CONTAINS "a,b" , "say \\"hi\\"", "" ').values).toEqual(['a,b', 'say "hi"', '']);
    expect(parseConstraint('email STR_ENDS_WITH @example.com').values).toEqual(['@example.com']);
    // Backslashes outside quotes are themselves; nothing after the operator is the empty list.
    expect(parseConstraint('path STR_STARTS_WITH C:\\x').values).toEqual(['C:\\x']);
    expect(parseConstraint('userId IN').values).toEqual([]);
    expect(parseConstraint('userId IN   ').values).toEqual([]);
  });

  it.each([
    [''],
    ['   '],
    ['country'],
    ['country ISIN KE'],
    ['country IN KE,,GH'],
    ['country IN KE,'],
    ['country IN ,KE'],
    ['city IN Dar es Salaam'],
    ['city IN Dar"es'],
    ['city IN "Dar es Salaam'],
    ['city IN "a"b'],
    ['city IN "a" "b"'],
    ['city IN "\\x"'],
  ])('refuses %j with a ConstraintSyntaxError', (line) => {
    expect(() => parseConstraint(line)).toThrow(ConstraintSyntaxError);
  });

  it('reads back exactly what formatConstraint writes, for any values', () => {
    const attribute = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/);
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom('', ' ', ',', '"', '\\', 'a, b', ' x ', '\u00a0', '\n', '""'),
    );
    fc.assert(
      fc.property(attribute, fc.constantFrom(...CONSTRAINT_OPERATORS), fc.array(value, { maxLength: 6 }), (a, operator, values) => {
        expect(parseConstraint(formatConstraint({ attribute: a, operator, values }))).toEqual({ attribute: a, operator, values, inverted: false, caseInsensitive: false });
      }),
      { numRuns: 2_000 },
    );
  });

  it('on any input, reads a list or throws a ConstraintSyntaxError, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        try {
          expect(Array.isArray(parseValues(text))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ConstraintSyntaxError);
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
