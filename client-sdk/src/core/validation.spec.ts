import type { Constraint, Operator } from './types.js';
import { ATTRIBUTE_NAME_PATTERN, isOperator, MAX_CONSTRAINT_VALUES, SEGMENT_KEY_PATTERN, SLICE_KEY_PATTERN, validateConstraint } from './validation.js';

const c = (attribute: unknown, operator: unknown, values: unknown): Constraint => ({ attribute, operator, values }) as unknown as Constraint;
const codes = (constraint: Constraint) => validateConstraint(constraint).map((p) => [p.field, p.code, p.index]);

describe('validateConstraint', () => {
  it.each([
    c('country', 'IN', ['KE', 'GH']),
    c('country', 'NOT_IN', []),
    c('email', 'STR_ENDS_WITH', ['@example.com']),
    c('age', 'NUM_GTE', ['18']),
    c('score', 'NUM_LT', ['-0.5e2']),
    c('currentTime', 'DATE_AFTER', ['2024-03-01T09:30:00.5+03:00']),
    c('appVersion', 'SEMVER_GTE', ['2.3.0-rc.1+build.7']),
    c(
      'tenant_id',
      'IN',
      Array.from({ length: MAX_CONSTRAINT_VALUES }, (_, i) => `t${i}`),
    ),
  ])('accepts a valid constraint (%#)', (constraint) => {
    expect(validateConstraint(constraint)).toEqual([]);
  });

  it('refuses an empty or malformed attribute', () => {
    expect(codes(c('', 'IN', ['a']))).toEqual([['attribute', 'EMPTY_ATTRIBUTE', undefined]]);
    expect(codes(c(undefined, 'IN', ['a']))).toEqual([['attribute', 'EMPTY_ATTRIBUTE', undefined]]);
    expect(codes(c('1st', 'IN', ['a']))).toEqual([['attribute', 'INVALID_ATTRIBUTE', undefined]]);
    expect(codes(c('has space', 'IN', ['a']))).toEqual([['attribute', 'INVALID_ATTRIBUTE', undefined]]);
  });

  it('refuses an unknown operator', () => {
    expect(codes(c('a', 'REGEX', ['x']))).toEqual([['operator', 'UNKNOWN_OPERATOR', undefined]]);
    expect(codes(c('a', 'in', ['x']))).toEqual([['operator', 'UNKNOWN_OPERATOR', undefined]]);
  });

  it('refuses a wrong value count for single-value operators', () => {
    for (const op of ['NUM_EQ', 'DATE_BEFORE', 'SEMVER_LT'] as Operator[]) {
      expect(codes(c('a', op, []))).toEqual([['values', 'WRONG_VALUE_COUNT', undefined]]);
      expect(codes(c('a', op, ['1', '2']))).toContainEqual(['values', 'WRONG_VALUE_COUNT', undefined]);
    }
  });

  it('refuses unparseable numbers, dates and versions', () => {
    expect(codes(c('a', 'NUM_EQ', ['twelve']))).toEqual([['values', 'INVALID_NUMBER', 0]]);
    expect(codes(c('a', 'NUM_EQ', ['0x10']))).toEqual([['values', 'INVALID_NUMBER', 0]]);
    expect(codes(c('a', 'NUM_EQ', ['1e400']))).toEqual([['values', 'INVALID_NUMBER', 0]]);
    expect(codes(c('a', 'DATE_AFTER', ['2024-03-01']))).toEqual([['values', 'INVALID_DATE', 0]]);
    expect(codes(c('a', 'DATE_AFTER', ['2024-03-01T09:30:00']))).toEqual([['values', 'INVALID_DATE', 0]]);
    expect(codes(c('a', 'SEMVER_EQ', ['v1.2.3']))).toEqual([['values', 'INVALID_SEMVER', 0]]);
    expect(codes(c('a', 'SEMVER_EQ', ['1.2']))).toEqual([['values', 'INVALID_SEMVER', 0]]);
    expect(codes(c('a', 'SEMVER_EQ', ['01.2.3']))).toEqual([['values', 'INVALID_SEMVER', 0]]);
  });

  it('refuses values the Unleash SDKs read differently: empty, untrimmed, not strings', () => {
    expect(codes(c('a', 'IN', ['ok', '', ' KE', 'GH\n', 7]))).toEqual([
      ['values', 'EMPTY_VALUE', 1],
      ['values', 'UNTRIMMED_VALUE', 2],
      ['values', 'UNTRIMMED_VALUE', 3],
      ['values', 'INVALID_VALUE', 4],
    ]);
    expect(codes(c('a', 'NUM_EQ', [' 12']))).toEqual([['values', 'UNTRIMMED_VALUE', 0]]);
  });

  it('refuses more than 10,000 values, without a problem per value', () => {
    const values = Array.from({ length: MAX_CONSTRAINT_VALUES + 1 }, () => '');
    expect(codes(c('a', 'IN', values))).toEqual([['values', 'TOO_MANY_VALUES', undefined]]);
  });

  it('reports every problem at once and survives any input', () => {
    expect(codes(c('', 'NOPE', 'x'))).toEqual([
      ['attribute', 'EMPTY_ATTRIBUTE', undefined],
      ['operator', 'UNKNOWN_OPERATOR', undefined],
      ['values', 'INVALID_VALUES', undefined],
    ]);
    for (const bad of [null, undefined, 42, 'IN', []]) {
      expect(validateConstraint(bad as unknown as Constraint).length).toBeGreaterThan(0);
    }
    for (const problem of validateConstraint(c('', 'NOPE', ['']))) expect(problem.message).toEqual(expect.any(String));
  });
});

describe('patterns', () => {
  it('slice and segment keys: lowercase, 1..128 characters', () => {
    for (const ok of ['payments.provider.mpesa', 'api.get-transactions', 'a', '0', 'jobs/nightly:v2_x', 'a'.repeat(128)]) {
      expect(SLICE_KEY_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['', 'Payments', '.a', '-a', 'a b', 'a'.repeat(129), 'ä', 'a\n']) {
      expect(SLICE_KEY_PATTERN.test(bad)).toBe(false);
    }
    expect(SEGMENT_KEY_PATTERN).toBe(SLICE_KEY_PATTERN);
  });

  it('attribute names', () => {
    for (const ok of ['userId', 'tenant_id', 'app.version', '_x', 'currentTime', 'a'.repeat(64)]) {
      expect(ATTRIBUTE_NAME_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['', '1a', 'a b', 'a'.repeat(65), '-a', 'a:b']) {
      expect(ATTRIBUTE_NAME_PATTERN.test(bad)).toBe(false);
    }
  });

  it('isOperator', () => {
    expect(isOperator('SEMVER_LTE')).toBe(true);
    expect(isOperator('NOT_A_VALID_OPERATOR')).toBe(false);
    expect(isOperator(undefined)).toBe(false);
  });
});
