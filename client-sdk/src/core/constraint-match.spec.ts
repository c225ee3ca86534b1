import fc from 'fast-check';
import { compileConstraint, compileSegment, foldCase, matchesConstraint, readAttribute } from './constraint-match.js';
import type { Constraint, EvaluationContext, Operator } from './types.js';

const NOW = Date.parse('2024-03-01T09:30:00Z');
const c = (attribute: string, operator: string, values: string[], flags: Partial<Constraint> = {}): Constraint => ({
  attribute,
  operator: operator as Operator,
  values,
  ...flags,
});

type Case = [label: string, constraint: Constraint, context: Record<string, unknown> | null | undefined, expected: boolean];
const check = (constraint: Constraint, context: Record<string, unknown> | null | undefined, now = NOW) => matchesConstraint(constraint, context as EvaluationContext, now);

/**
 * The Unleash client specification, translated case by case (custom context fields become flat
 * attributes). These are the official cross-SDK expectations, not derived from this code.
 */
describe('Unleash client specification', () => {
  const cases: Case[] = [
    // 13-constraint-operators.json
    ['F1 startsWith', c('customField', 'STR_STARTS_WITH', ['some-string']), { customField: 'some-string-is-cool' }, true],
    ['F1 startsWith, no', c('customField', 'STR_STARTS_WITH', ['some-string']), { customField: 'some2-is-cool-string' }, false],
    ['F2 startsWith any', c('customField', 'STR_STARTS_WITH', ['e1', 'e2']), { customField: 'e2 cool' }, true],
    ['F2 startsWith any, no', c('customField', 'STR_STARTS_WITH', ['e1', 'e2']), { customField: 'cool e1' }, false],
    ['F2 startsWith ci', c('customField', 'STR_STARTS_WITH', ['TEST'], { caseInsensitive: true }), { customField: 'test@example.com' }, true],
    ['F2 startsWith ci mixed', c('customField', 'STR_STARTS_WITH', ['TEST'], { caseInsensitive: true }), { customField: 'TEsT@example.com' }, true],
    ['F3 endsWith', c('email', 'STR_ENDS_WITH', ['some-email.com']), { email: 'test@some-email.com' }, true],
    ['F3 endsWith case', c('email', 'STR_ENDS_WITH', ['some-email.com']), { email: 'test@some-EMAIL.com' }, false],
    ['F3 endsWith ci', c('email', 'STR_ENDS_WITH', ['some-email.com'], { caseInsensitive: true }), { email: 'test@SOME-EMAIL.com' }, true],
    ['F3 endsWith, no', c('email', 'STR_ENDS_WITH', ['some-email.com']), { email: 'test@another-email.com' }, false],
    ['F4 contains', c('email', 'STR_CONTAINS', ['email']), { email: 'test@some-email.com' }, true],
    ['F4 contains, no', c('email', 'STR_CONTAINS', ['email']), { email: 'test@another.com' }, false],
    ['F4 contains inverted', c('email', 'STR_CONTAINS', ['email'], { inverted: true }), { email: 'test@another.com' }, true],
    ['F5 numEq', c('someValue', 'NUM_EQ', ['12']), { someValue: '12' }, true],
    ['F5 numEq float ctx', c('someValue', 'NUM_EQ', ['12']), { someValue: '12.0' }, true],
    ['F5 numEq inverted', c('someValue', 'NUM_EQ', ['12'], { inverted: true }), { someValue: '12' }, false],
    ['F5 numEq float value', c('someValue', 'NUM_EQ', ['12.0']), { someValue: '12.0' }, true],
    ['F5 numEq float value int ctx', c('someValue', 'NUM_EQ', ['12.0']), { someValue: '12' }, true],
    ['F5 numEq inverted other', c('someValue', 'NUM_EQ', ['12'], { inverted: true }), { someValue: '13' }, true],
    ['F5 numGT', c('someValue', 'NUM_GT', ['12']), { someValue: '13' }, true],
    ['F5 numGT equal', c('someValue', 'NUM_GT', ['12']), { someValue: '12' }, false],
    ['F5 numGTE equal', c('someValue', 'NUM_GTE', ['12']), { someValue: '12' }, true],
    ['F5 numGTE larger', c('someValue', 'NUM_GTE', ['12']), { someValue: '13' }, true],
    ['F5 numGTE lower', c('someValue', 'NUM_GTE', ['12']), { someValue: '11' }, false],
    ['F5 numLTE higher', c('someValue', 'NUM_LTE', ['12']), { someValue: '13' }, false],
    ['F5 numLTE equal', c('someValue', 'NUM_LTE', ['12']), { someValue: '12' }, true],
    ['F5 numLTE lower', c('someValue', 'NUM_LTE', ['12']), { someValue: '0' }, true],
    ['F5 numLT lower', c('someValue', 'NUM_LT', ['12']), { someValue: '0' }, true],
    ['F5 numLT equal', c('someValue', 'NUM_LT', ['12']), { someValue: '12' }, false],
    ['F7 dateAfter', c('currentTime', 'DATE_AFTER', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-30T13:00:00.000Z' }, true],
    ['F7 dateAfter, no', c('currentTime', 'DATE_AFTER', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-28T13:00:00.000Z' }, false],
    ['F7 dateAfter exclusive', c('currentTime', 'DATE_AFTER', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-29T13:00:00.000Z' }, false],
    ['F7 dateBefore', c('currentTime', 'DATE_BEFORE', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-28T13:00:00.000Z' }, true],
    ['F7 dateBefore, no', c('currentTime', 'DATE_BEFORE', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-30T13:00:00.000Z' }, false],
    ['F7 dateBefore exclusive', c('currentTime', 'DATE_BEFORE', ['2022-01-29T13:00:00.000Z']), { currentTime: '2022-01-29T13:00:00.000Z' }, false],
    ['F7 tz after', c('currentTime', 'DATE_AFTER', ['2022-01-22T13:00:00.000+02:00']), { currentTime: '2022-01-22T11:30:00.000Z' }, true],
    ['F7 tz before', c('currentTime', 'DATE_BEFORE', ['2022-01-22T14:00:00.000+02:00']), { currentTime: '2022-01-22T11:30:00.000Z' }, true],
    ['F7 invalid operator', c('customField', 'NOT_A_VALID_OPERATOR', ['2022-01-22T13:00:00.000Z']), { someValue: '12' }, false],
    ['F8 missing IN', c('customFieldMissing', 'IN', ['s1']), {}, false],
    ['F8 present IN', c('customFieldMissing', 'IN', ['s1']), { customFieldMissing: 's1' }, true],
    ['F8 missing NOT_IN', c('customFieldMissing', 'NOT_IN', ['s1']), {}, true],
    ['F8 null NOT_IN', c('customFieldMissing', 'NOT_IN', ['s1']), { customFieldMissing: null }, true],
    ['F9 inverted IN', c('someValue', 'IN', ['s1', 's2'], { inverted: true }), { someValue: 's1' }, false],
    ['F10 inverted NOT_IN', c('someValue', 'NOT_IN', ['s1', 's2'], { inverted: true }), { someValue: 's1' }, true],
    // 11-strategy-constraints-edge-cases.json
    ['IN [] with value', c('environment', 'IN', []), { environment: 'default' }, false],
    ['IN [] missing', c('environment', 'IN', []), {}, false],
    ['NOT_IN [] with value', c('environment', 'NOT_IN', []), { environment: 'default' }, true],
    ['NOT_IN [] missing', c('environment', 'NOT_IN', []), {}, true],
    // 14-constraint-semver-operators.json
    ['semverEQ', c('version', 'SEMVER_EQ', ['1.2.2']), { version: '1.2.2' }, true],
    ['semverEQ metadata ctx', c('version', 'SEMVER_EQ', ['1.2.2']), { version: '1.2.2+metadata' }, true],
    ['semverEQ, no', c('version', 'SEMVER_EQ', ['1.2.2']), { version: '1.2.0' }, false],
    ['semverGT', c('version', 'SEMVER_GT', ['1.2.2']), { version: '1.2.3' }, true],
    ['semverGT, no', c('version', 'SEMVER_GT', ['1.2.2']), { version: '1.2.0' }, false],
    ['semverGT metadata only', c('version', 'SEMVER_GT', ['1.2.2']), { version: '1.2.2+metadata' }, false],
    ['semverGTE equal', c('version', 'SEMVER_GTE', ['1.2.2']), { version: '1.2.2' }, true],
    ['semverGTE greater', c('version', 'SEMVER_GTE', ['1.2.2']), { version: '1.2.3' }, true],
    ['semverGTE, no', c('version', 'SEMVER_GTE', ['1.2.2']), { version: '1.2.1' }, false],
    ['semverLT', c('version', 'SEMVER_LT', ['1.2.2']), { version: '1.2.1' }, true],
    ['semverLT, no', c('version', 'SEMVER_LT', ['1.2.2']), { version: '1.2.3' }, false],
    ['semverLT metadata only', c('version', 'SEMVER_LT', ['1.2.2']), { version: '1.2.2+metadata' }, false],
    ['semverLTE equal', c('version', 'SEMVER_LTE', ['1.2.2']), { version: '1.2.2' }, true],
    ['semverLTE less', c('version', 'SEMVER_LTE', ['1.2.2']), { version: '1.2.1' }, true],
    ['semverLTE, no', c('version', 'SEMVER_LTE', ['1.2.2']), { version: '1.2.3' }, false],
    ['alpha GT beta', c('version', 'SEMVER_GT', ['2.0.0-alpha.1']), { version: '2.0.0-beta.1' }, true],
    ['alpha GT release', c('version', 'SEMVER_GT', ['2.0.0-alpha.1']), { version: '2.0.0' }, true],
    ['alpha LT beta', c('version', 'SEMVER_LT', ['2.0.0-alpha.1']), { version: '2.0.0-beta.1' }, false],
    ['alpha LT old beta', c('version', 'SEMVER_LT', ['2.0.0-alpha.1']), { version: '1.9.1-beta.1' }, true],
    ['alpha LT release', c('version', 'SEMVER_LT', ['2.0.0-alpha.1']), { version: '2.0.0' }, false],
    ['alpha.1 LT alpha.3', c('version', 'SEMVER_LT', ['2.0.0-alpha.3']), { version: '2.0.0-alpha.1' }, true],
    ['alpha.4 LT alpha.3', c('version', 'SEMVER_LT', ['2.0.0-alpha.3']), { version: '2.0.0-alpha.4' }, false],
    ['alpha.1 GT alpha', c('version', 'SEMVER_GT', ['2.0.0-alpha']), { version: '2.0.0-alpha.1' }, true],
    ['alpha GT rc', c('version', 'SEMVER_GT', ['2.0.0-rc']), { version: '2.0.0-alpha.1' }, false],
    ['beta GT rc', c('version', 'SEMVER_GT', ['2.0.0-rc']), { version: '2.0.0-beta.1' }, false],
    ['release GT rc', c('version', 'SEMVER_GT', ['2.0.0-rc']), { version: '2.0.0' }, true],
    ['leading v', c('version', 'SEMVER_EQ', ['v2.0.0']), { version: 'v2.0.0' }, false],
    ['broken semver', c('version', 'SEMVER_EQ', ['v2.0.0']), { version: 'not a semver' }, false],
    ['EQ metadata value', c('version', 'SEMVER_EQ', ['1.2.2+metadata']), { version: '1.2.2' }, true],
    ['EQ metadata both', c('version', 'SEMVER_EQ', ['1.2.2+metadata']), { version: '1.2.2+metadata.1' }, true],
    ['EQ metadata same', c('version', 'SEMVER_EQ', ['1.2.2+metadata']), { version: '1.2.2+metadata' }, true],
    ['EQ pre metadata', c('version', 'SEMVER_EQ', ['1.2.2-alpha.1+metadata']), { version: '1.2.2-alpha.1' }, true],
    ['EQ pre metadata dot', c('version', 'SEMVER_EQ', ['1.2.2-alpha.1+metadata']), { version: '1.2.2-alpha.1+metadata.1' }, true],
    ['LT pre metadata', c('version', 'SEMVER_LT', ['1.2.2-alpha.1+metadata']), { version: '1.2.2-alpha.1' }, false],
    ['GT pre metadata', c('version', 'SEMVER_GT', ['1.2.2-alpha.1+metadata.1']), { version: '1.2.2-alpha.1+metadata.2' }, false],
    // 16-case-insensitive-in-operators.json
    ['ci IN', c('appName', 'IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true }), { appName: 'App' }, true],
    ['ci IN special', c('appName', 'IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true }), { appName: 'App2-iOS-[v1]' }, true],
    ['ci IN inverted', c('appName', 'IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true, inverted: true }), { appName: 'App' }, false],
    ['ci IN inverted special', c('appName', 'IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true, inverted: true }), { appName: 'App2-iOS-[v1]' }, false],
    ['ci NOT_IN', c('appName', 'NOT_IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true }), { appName: 'APP' }, false],
    ['ci NOT_IN inverted', c('appName', 'NOT_IN', ['app', 'app2-ios-[v1]'], { caseInsensitive: true, inverted: true }), { appName: 'APP2-IOS-[V1]' }, true],
  ];
  it.each(cases)('%s', (_label, constraint, context, expected) => {
    expect(check(constraint, context)).toBe(expected);
  });

  it('F6 number range: a segment needs every constraint', () => {
    const range = compileSegment({ key: 'range', constraints: [c('someValue', 'NUM_GT', ['12']), c('someValue', 'NUM_LT', ['16'])] });
    expect(range({ someValue: '11' }, NOW)).toBe(false);
    expect(range({ someValue: '14' }, NOW)).toBe(true);
  });

  it('F7 date range', () => {
    const range = compileSegment({
      key: 'range',
      constraints: [c('currentTime', 'DATE_AFTER', ['2022-01-22T13:00:00.000Z']), c('currentTime', 'DATE_BEFORE', ['2022-01-29T13:00:00.000Z'])],
    });
    expect(range({ currentTime: '2022-01-25T13:00:00.000Z' }, NOW)).toBe(true);
  });
});

describe('operator semantics (DESIGN.md and the decisions in constraint-match.ts)', () => {
  describe('a missing attribute', () => {
    const absent: Case[] = [
      ['IN fails', c('country', 'IN', ['KE']), {}, false],
      ['NOT_IN passes', c('country', 'NOT_IN', ['KE']), {}, true],
      ['STR_STARTS_WITH fails', c('email', 'STR_STARTS_WITH', ['a']), {}, false],
      ['STR_ENDS_WITH fails', c('email', 'STR_ENDS_WITH', ['a']), {}, false],
      ['STR_CONTAINS fails', c('email', 'STR_CONTAINS', ['a']), {}, false],
      ['NUM_LTE fails', c('age', 'NUM_LTE', ['100']), {}, false],
      ['NUM_GTE fails', c('age', 'NUM_GTE', ['-100']), {}, false],
      ['DATE_AFTER (not currentTime) fails', c('signupAt', 'DATE_AFTER', ['1970-01-01T00:00:00Z']), {}, false],
      ['DATE_BEFORE (not currentTime) fails', c('signupAt', 'DATE_BEFORE', ['9999-01-01T00:00:00Z']), {}, false],
      ['SEMVER_GTE fails', c('appVersion', 'SEMVER_GTE', ['0.0.0']), {}, false],
      // `inverted` negates the missing attribute's result too (Node checkConstraint; Yggdrasil tests)
      ['inverted IN passes', c('country', 'IN', ['KE'], { inverted: true }), {}, true],
      ['inverted NOT_IN fails', c('country', 'NOT_IN', ['KE'], { inverted: true }), {}, false],
      ['inverted STR_CONTAINS passes', c('email', 'STR_CONTAINS', ['a'], { inverted: true }), {}, true],
      ['inverted NUM_EQ passes', c('age', 'NUM_EQ', ['1'], { inverted: true }), {}, true],
      ['inverted DATE_AFTER passes', c('signupAt', 'DATE_AFTER', ['1970-01-01T00:00:00Z'], { inverted: true }), {}, true],
      ['inverted SEMVER_EQ passes', c('appVersion', 'SEMVER_EQ', ['1.0.0'], { inverted: true }), {}, true],
    ];
    it.each(absent)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));
  });

  describe('an empty-string or non-string attribute counts as missing', () => {
    const cases: Case[] = [
      ['empty IN', c('country', 'IN', ['KE']), { country: '' }, false],
      ['empty NOT_IN', c('country', 'NOT_IN', ['KE']), { country: '' }, true],
      ['empty STR_STARTS_WITH', c('email', 'STR_STARTS_WITH', ['a']), { email: '' }, false],
      ['empty NUM_EQ 0 (Node would say Number("") === 0)', c('age', 'NUM_EQ', ['0']), { age: '' }, false],
      ['empty SEMVER', c('v', 'SEMVER_LT', ['1.0.0']), { v: '' }, false],
      ['empty currentTime is now', c('currentTime', 'DATE_AFTER', ['2024-03-01T09:29:59Z']), { currentTime: '' }, true],
      ['number IN', c('tier', 'IN', ['1']), { tier: 1 }, false],
      ['number NOT_IN', c('tier', 'NOT_IN', ['1']), { tier: 1 }, true],
      ['number NUM_EQ', c('age', 'NUM_EQ', ['42']), { age: 42 }, false],
      ['object STR_CONTAINS', c('email', 'STR_CONTAINS', ['o']), { email: { toString: () => 'o' } }, false],
      ['boolean IN', c('beta', 'IN', ['true']), { beta: true }, false],
      ['inherited "toString" IN', c('toString', 'IN', ['x']), {}, false],
      ['inherited "constructor" NOT_IN', c('constructor', 'NOT_IN', ['x']), {}, true],
    ];
    it.each(cases)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));
  });

  describe('lists', () => {
    const cases: Case[] = [
      ['IN exact', c('country', 'IN', ['KE', 'GH']), { country: 'GH' }, true],
      ['IN is case-sensitive by default', c('country', 'IN', ['KE']), { country: 'ke' }, false],
      ['IN does not trim the context', c('country', 'IN', ['KE']), { country: 'KE ' }, false],
      ['NOT_IN present', c('country', 'NOT_IN', ['KE']), { country: 'GH' }, true],
      ['NOT_IN [] inverted', c('country', 'NOT_IN', [], { inverted: true }), { country: 'GH' }, false],
      ['IN [] inverted', c('country', 'IN', [], { inverted: true }), {}, true],
      ['IN [""] never matches (empty values are dropped)', c('country', 'IN', ['']), { country: '' }, false],
      ['STR_CONTAINS [""] never matches', c('email', 'STR_CONTAINS', ['']), { email: 'x@y' }, false],
      ['STR_* with several values: any', c('path', 'STR_ENDS_WITH', ['.json', '.xml']), { path: 'a.xml' }, true],
      ['caseInsensitive folds both sides (values upper, context lower)', c('country', 'IN', ['KE'], { caseInsensitive: true }), { country: 'ke' }, true],
      ['caseInsensitive beyond ASCII', c('city', 'IN', ['ÅLESUND'], { caseInsensitive: true }), { city: 'ålesund' }, true],
      ['caseInsensitive STR_CONTAINS non-ASCII', c('name', 'STR_CONTAINS', ['ÄPF'], { caseInsensitive: true }), { name: 'großer äpfel' }, true],
      ['caseInsensitive is ignored by NUM_*', c('n', 'NUM_EQ', ['1E3'], { caseInsensitive: true }), { n: '1000' }, true],
      ['caseInsensitive is ignored by SEMVER_* (prerelease stays case-sensitive)', c('v', 'SEMVER_EQ', ['1.0.0-RC'], { caseInsensitive: true }), { v: '1.0.0-rc' }, false],
    ];
    it.each(cases)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));

    it('IN and NOT_IN give the same answer for short lists (searched) and long ones (hashed)', () => {
      // A reference written from the rule, not from the code: a missing (absent, non-string, empty)
      // value fails IN; otherwise IN iff some non-empty value equals it (both folded when asked).
      const word = fc.constantFrom('KE', 'ke', 'Ke', 'GH', 'NG', '', 'ÅLESUND', 'ålesund', 'x', 'KE ');
      fc.assert(
        fc.property(
          fc.array(word, { maxLength: 20 }),
          fc.oneof(word, fc.constant(undefined), fc.integer()),
          fc.boolean(),
          fc.boolean(),
          fc.boolean(),
          (values, value, isIn, caseInsensitive, inverted) => {
            const fold = (t: string) => (caseInsensitive ? t.toLowerCase() : t);
            const present = typeof value === 'string' && value.length > 0;
            const found = present && values.some((v) => v.length > 0 && fold(v) === fold(value));
            const expected = (isIn ? found : !found) !== inverted;
            const constraint = c('country', isIn ? 'IN' : 'NOT_IN', values, { caseInsensitive, inverted });
            expect(check(constraint, value === undefined ? {} : { country: value })).toBe(expected);
          },
        ),
        { numRuns: 3_000 },
      );
    });
  });

  describe('numbers as floats', () => {
    const cases: Case[] = [
      ['float GT', c('score', 'NUM_GT', ['0.5']), { score: '0.51' }, true],
      ['negative LT', c('delta', 'NUM_LT', ['-1.5']), { delta: '-2' }, true],
      ['exponent EQ', c('n', 'NUM_EQ', ['1e3']), { n: '1000' }, true],
      ['float sums are not exact', c('n', 'NUM_EQ', ['0.3']), { n: '0.30000000000000004' }, false],
      ['NaN context', c('n', 'NUM_LTE', ['10']), { n: 'NaN' }, false],
      ['not a number', c('n', 'NUM_GTE', ['0']), { n: 'abc' }, false],
      ['hex is not a number', c('n', 'NUM_EQ', ['16']), { n: '0x10' }, false],
      ['spaces are not a number', c('n', 'NUM_EQ', ['12']), { n: ' 12' }, false],
      ['invalid constraint value: false', c('n', 'NUM_EQ', ['twelve']), { n: '12' }, false],
      ['invalid constraint value, inverted: true (as in Node)', c('n', 'NUM_EQ', ['twelve'], { inverted: true }), { n: '12' }, true],
      ['two values: invalid, false', c('n', 'NUM_EQ', ['1', '2']), { n: '1' }, false],
      ['no value: invalid, false', c('n', 'NUM_EQ', []), { n: '1' }, false],
    ];
    it.each(cases)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));
  });

  describe('dates as RFC 3339 instants, compared strictly', () => {
    const cases: Case[] = [
      ['offset equals Z: not after itself', c('currentTime', 'DATE_AFTER', ['2024-03-01T12:30:00+03:00']), { currentTime: '2024-03-01T09:30:00Z' }, false],
      ['offset equals Z: not before itself', c('currentTime', 'DATE_BEFORE', ['2024-03-01T12:30:00+03:00']), { currentTime: '2024-03-01T09:30:00Z' }, false],
      ['fractional seconds count', c('currentTime', 'DATE_AFTER', ['2024-03-01T09:30:00Z']), { currentTime: '2024-03-01T09:30:00.001Z' }, true],
      ['nanoseconds count', c('currentTime', 'DATE_BEFORE', ['2024-03-01T09:30:00.000000002Z']), { currentTime: '2024-03-01T09:30:00.000000001Z' }, true],
      ['negative offset', c('currentTime', 'DATE_AFTER', ['2024-03-01T09:00:00Z']), { currentTime: '2024-03-01T04:00:00-05:30' }, true],
      ['another attribute', c('signupAt', 'DATE_BEFORE', ['2024-01-01T00:00:00Z']), { signupAt: '2023-12-31T23:59:59Z' }, true],
      ['another attribute ignores currentTime', c('signupAt', 'DATE_BEFORE', ['2024-01-01T00:00:00Z']), { currentTime: '2023-12-31T23:59:59Z' }, false],
      ['invalid context date', c('currentTime', 'DATE_BEFORE', ['2030-01-01T00:00:00Z']), { currentTime: '2024-03-01' }, false],
      ['invalid context date, inverted', c('currentTime', 'DATE_BEFORE', ['2030-01-01T00:00:00Z'], { inverted: true }), { currentTime: 'soon' }, true],
      ['invalid constraint date', c('currentTime', 'DATE_AFTER', ['2024-03-01']), { currentTime: '2024-03-02T00:00:00Z' }, false],
    ];
    it.each(cases)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));

    it('uses the decision time for currentTime when the context has none', () => {
      const after = c('currentTime', 'DATE_AFTER', ['2024-03-01T09:30:00Z']);
      expect(check(after, {}, NOW)).toBe(false); // equal: strict
      expect(check(after, {}, NOW + 1)).toBe(true);
      expect(check(after, null, NOW + 1)).toBe(true);
      expect(check(after, { currentTime: '2024-03-01T09:29:00Z' }, NOW + 1)).toBe(false); // the context wins
      expect(check(after, {}, NaN)).toBe(false);
    });
  });

  describe('semver', () => {
    const cases: Case[] = [
      ['prerelease below release', c('v', 'SEMVER_LT', ['2.3.0']), { v: '2.3.0-rc.1' }, true],
      ['numeric prerelease ids compare as numbers', c('v', 'SEMVER_GT', ['2.3.0-rc.2']), { v: '2.3.0-rc.10' }, true],
      ['two-part version is invalid', c('v', 'SEMVER_LT', ['2.0.0']), { v: '1.2' }, false],
      ['leading zero is invalid', c('v', 'SEMVER_LT', ['2.0.0']), { v: '01.2.3' }, false],
      ['invalid, inverted', c('v', 'SEMVER_LT', ['2.0.0'], { inverted: true }), { v: 'v1.0.0' }, true],
      ['invalid constraint value', c('v', 'SEMVER_GTE', ['2.0']), { v: '3.0.0' }, false],
    ];
    it.each(cases)('%s', (_l, constraint, context, expected) => expect(check(constraint, context)).toBe(expected));
  });

  describe('inverted and unknown operators', () => {
    it('negates once', () => {
      expect(check(c('country', 'IN', ['KE'], { inverted: true }), { country: 'KE' })).toBe(false);
      expect(check(c('country', 'IN', ['KE'], { inverted: true }), { country: 'GH' })).toBe(true);
      expect(check(c('country', 'NOT_IN', ['KE'], { inverted: true }), { country: 'KE' })).toBe(true);
    });

    it('treats only `true` as inverted', () => {
      expect(check({ ...c('country', 'IN', ['KE']), inverted: 'yes' as unknown as boolean }, { country: 'KE' })).toBe(true);
    });

    it('keeps an unknown operator false, even inverted', () => {
      expect(check(c('x', 'REGEX', ['.*']), { x: 'a' })).toBe(false);
      expect(check(c('x', 'REGEX', ['.*'], { inverted: true }), { x: 'a' })).toBe(false);
      expect(check(c('x', 'in', ['a']), { x: 'a' })).toBe(false); // operators are case-sensitive
    });

    it('compiles garbage to "matches nothing" instead of throwing', () => {
      for (const bad of [null, undefined, 42, 'IN', {}, { attribute: 7, operator: 'IN', values: ['7'] }, { attribute: 'a', operator: 'IN', values: 'a' }]) {
        expect(compileConstraint(bad as unknown as Constraint)({ a: 'a' }, NOW)).toBe(false);
      }
    });
  });

  describe('segments', () => {
    it('match everyone without constraints, and nobody with a malformed list', () => {
      expect(compileSegment({ key: 'all', constraints: [] })({}, NOW)).toBe(true);
      expect(compileSegment({ key: 'bad', constraints: null as unknown as Constraint[] })({}, NOW)).toBe(false);
    });
  });
});

describe('helpers', () => {
  it('readAttribute returns only non-empty strings', () => {
    const ctx = { a: 'x', b: '', c: 5, d: null, e: undefined } as unknown as EvaluationContext;
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'hasOwnProperty', '__proto__'].map((k) => readAttribute(ctx, k))).toEqual([
      'x',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('foldCase returns the same string when already lower-case ASCII', () => {
    const s = 'already-lower-42';
    expect(foldCase(s)).toBe(s);
    expect(foldCase('MiXeD')).toBe('mixed');
    expect(foldCase('ÅÄÖ')).toBe('åäö');
  });
});

describe('the clock', () => {
  it('is read only when a currentTime date constraint needs it and no `now` is given', () => {
    const afterLaunch = c('currentTime', 'DATE_AFTER', ['2020-01-01T00:00:00Z']);
    expect(matchesConstraint(afterLaunch, {})).toBe(true);
    expect(matchesConstraint(afterLaunch, {}, Date.parse('2019-12-31T23:59:59Z'))).toBe(false);
    const beforeEnd = c('currentTime', 'DATE_BEFORE', ['2999-01-01T00:00:00Z']);
    expect(matchesConstraint(beforeEnd, {})).toBe(true);
  });
});
