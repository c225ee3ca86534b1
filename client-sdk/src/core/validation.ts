/**
 * Save-time validation shared by the server and the SDK: bad values are refused when a segment is
 * written, with machine-readable problems, instead of silently matching nobody later.
 * The evaluator itself never throws on what this refuses; it just matches nothing (see
 * constraint-match.ts).
 */

import { OPERATORS, type Constraint, type Operator } from './types.js';
import { parseDecimal } from './decimal.js';
import { isRfc3339 } from './rfc3339.js';
import { isSemver } from './semver.js';

/** Slice keys: lowercase, `[a-z0-9][a-z0-9._:/-]{0,127}` (DESIGN.md, "Words"). */
export const SLICE_KEY_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,127}$/;

/** Segment keys follow the slice key pattern. */
export const SEGMENT_KEY_PATTERN = SLICE_KEY_PATTERN;

/**
 * Context attribute names (constraint attributes, stickiness attributes): an identifier-like name
 * of at most 64 characters, e.g. `userId`, `tenant_id`, `app.version`.
 */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Most values one constraint may list (a large explicit subject list is an IN constraint). */
export const MAX_CONSTRAINT_VALUES = 10_000;

/** Why a constraint was refused: a closed set, for clients to branch on (not the message). */
export type ConstraintProblemCode =
  /** `attribute` is missing or empty. */
  | 'EMPTY_ATTRIBUTE'
  /** `attribute` does not match {@link ATTRIBUTE_NAME_PATTERN}. */
  | 'INVALID_ATTRIBUTE'
  /** `operator` is not one of {@link OPERATORS}. */
  | 'UNKNOWN_OPERATOR'
  /** `values` is not a list. */
  | 'INVALID_VALUES'
  /** More than {@link MAX_CONSTRAINT_VALUES} values. */
  | 'TOO_MANY_VALUES'
  /** A NUM_*, DATE_* or SEMVER_* constraint without exactly one value. */
  | 'WRONG_VALUE_COUNT'
  /** A value that is not a string. */
  | 'INVALID_VALUE'
  /** An empty value: Unleash SDKs disagree on it (Node drops it; Rust matches it with STR_*). */
  | 'EMPTY_VALUE'
  /** Leading or trailing whitespace: the Node SDK trims values, the Rust engine does not. */
  | 'UNTRIMMED_VALUE'
  /** A NUM_* value that is not a finite decimal number. */
  | 'INVALID_NUMBER'
  /** A DATE_* value that is not an RFC 3339 date-time with a time zone. */
  | 'INVALID_DATE'
  /** A SEMVER_* value that is not a strict SemVer 2.0 version. */
  | 'INVALID_SEMVER';

/** One reason a constraint was refused. `index` points into `values` when one value is at fault. */
export interface ConstraintProblem {
  readonly field: 'attribute' | 'operator' | 'values';
  readonly index?: number;
  readonly code: ConstraintProblemCode;
  readonly message: string;
}

/** True when `value` is one of the supported operators. */
export function isOperator(value: unknown): value is Operator {
  return typeof value === 'string' && (OPERATORS as readonly string[]).includes(value);
}

/** True for the operators that take exactly one value (NUM_*, DATE_*, SEMVER_*). */
export function isSingleValueOperator(operator: Operator): boolean {
  return operator.startsWith('NUM_') || operator.startsWith('DATE_') || operator.startsWith('SEMVER_');
}

/** Checks one value of a single-value operator; `undefined` when it is fine. */
function singleValueProblem(operator: Operator, value: string): ConstraintProblem | undefined {
  const problem = (code: ConstraintProblemCode, expected: string): ConstraintProblem => ({
    field: 'values',
    index: 0,
    code,
    message: `${operator} needs ${expected}, got "${value}"`,
  });
  if (operator.startsWith('NUM_') && !Number.isFinite(parseDecimal(value))) {
    return problem('INVALID_NUMBER', 'a decimal number such as 42 or -1.5');
  }
  if (operator.startsWith('DATE_') && !isRfc3339(value)) {
    return problem('INVALID_DATE', 'an RFC 3339 date-time with a time zone such as 2024-03-01T09:30:00Z');
  }
  if (operator.startsWith('SEMVER_') && !isSemver(value)) {
    return problem('INVALID_SEMVER', 'a strict SemVer 2.0 version such as 2.3.0 or 2.3.0-rc.1 (no "v", no leading zeros)');
  }
  return undefined;
}

/**
 * Everything wrong with one constraint (empty when it is valid). Accepts untrusted input: any
 * field may be missing or of the wrong type. Per-value problems are reported for every value, so
 * a form can mark them all at once.
 */
export function validateConstraint(constraint: Constraint): ConstraintProblem[] {
  const problems: ConstraintProblem[] = [];
  const add = (field: ConstraintProblem['field'], code: ConstraintProblemCode, message: string, index?: number) => {
    problems.push(index === undefined ? { field, code, message } : { field, index, code, message });
  };
  const c: Partial<Record<keyof Constraint, unknown>> = typeof constraint === 'object' && constraint !== null ? constraint : {};

  if (typeof c.attribute !== 'string' || c.attribute.length === 0) {
    add('attribute', 'EMPTY_ATTRIBUTE', 'attribute is required');
  } else if (!ATTRIBUTE_NAME_PATTERN.test(c.attribute)) {
    add('attribute', 'INVALID_ATTRIBUTE', `attribute "${c.attribute}" must match ${ATTRIBUTE_NAME_PATTERN.source}`);
  }

  const operator = isOperator(c.operator) ? c.operator : undefined;
  if (operator === undefined) {
    add('operator', 'UNKNOWN_OPERATOR', `operator must be one of ${OPERATORS.join(', ')}`);
  }

  const values = c.values;
  if (!Array.isArray(values)) {
    add('values', 'INVALID_VALUES', 'values must be a list of strings');
    return problems;
  }
  if (values.length > MAX_CONSTRAINT_VALUES) {
    add('values', 'TOO_MANY_VALUES', `at most ${MAX_CONSTRAINT_VALUES} values, got ${values.length}`);
    return problems; // no problem per value for thousands of values
  }
  values.forEach((value: unknown, index) => {
    if (typeof value !== 'string') add('values', 'INVALID_VALUE', 'every value must be a string', index);
    else if (value.length === 0) add('values', 'EMPTY_VALUE', 'values must not be empty', index);
    else if (value.trim() !== value) add('values', 'UNTRIMMED_VALUE', 'values must not start or end with whitespace', index);
  });

  if (operator !== undefined && isSingleValueOperator(operator)) {
    const only: unknown = values[0];
    if (values.length !== 1) {
      add('values', 'WRONG_VALUE_COUNT', `${operator} takes exactly one value, got ${values.length}`);
    } else if (typeof only === 'string' && only.length > 0 && only.trim() === only) {
      const problem = singleValueProblem(operator, only);
      if (problem !== undefined) problems.push(problem);
    }
  }
  return problems;
}
