/**
 * The one-line form of a segment constraint, for `--constraint` (docs/cli.md, "Constraints"):
 *
 *   <attribute> <OPERATOR> <value>,<value>,...
 *
 *   country IN KE,GH
 *   appVersion SEMVER_GT 2.3.0
 *   city IN "Dar es Salaam",Nairobi
 *   email STR_ENDS_WITH @example.com        (then --case-insensitive, or --inverted, after it)
 *
 * The attribute is the first word and the operator the second; everything after the operator is
 * the list of values, separated by commas. Spaces around a value are not part of it. A value that
 * contains a comma, a space or a double quote, or is empty, is written as a JSON string
 * ("Dar es Salaam", "a \"b\"", ""). Nothing after the operator is the empty list (`IN` with no value
 * matches nobody, as in Unleash). So every line has exactly one reading, and
 * `formatConstraintValues` writes one that reads back to the same constraint (constraint-syntax.spec.ts).
 */

/**
 * The GraphQL ConstraintOperator enum (the decision core's OPERATORS). The CLI imports no service
 * code, so it keeps its own copy: if the enum changes, change this list
 * (constraint-syntax.spec.ts compares it with src/schema.graphql).
 */
export const CONSTRAINT_OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/** A constraint as the API takes it (ConstraintInput). */
export interface ConstraintInput {
  attribute: string;
  operator: ConstraintOperator;
  values: string[];
  inverted: boolean;
  caseInsensitive: boolean;
}

/** Why a line does not read as a constraint; the message says what to write instead. */
export class ConstraintSyntaxError extends Error {
  override readonly name = 'ConstraintSyntaxError';
}

const USAGE = 'expected "<attribute> <OPERATOR> <values>", e.g. "country IN KE,GH" or "appVersion SEMVER_GT 2.3.0"';

/** `in`, `str-ends-with` and `STR_ENDS_WITH` are the same operator; anything else is refused with the list. */
export function parseOperator(text: string): ConstraintOperator {
  const operator = text.toUpperCase().replace(/-/g, '_');
  if (!(CONSTRAINT_OPERATORS as readonly string[]).includes(operator)) {
    throw new ConstraintSyntaxError(`unknown operator "${text}": one of ${CONSTRAINT_OPERATORS.join(', ')}`);
  }
  return operator as ConstraintOperator;
}

/** Reads one `--constraint`; `inverted` and `caseInsensitive` come from the flags after it. */
export function parseConstraint(line: string): ConstraintInput {
  const head = /^\s*(\S+)(?:\s+(\S+))?/.exec(line);
  if (head === null) throw new ConstraintSyntaxError(`empty constraint: ${USAGE}`);
  if (head[2] === undefined) throw new ConstraintSyntaxError(`no operator after "${head[1]}": ${USAGE}`);
  const operator = parseOperator(head[2]);
  // The greedy \S+ leaves `rest` empty or starting with a space.
  return { attribute: head[1]!, operator, values: parseValues(line.slice(head[0].length)), inverted: false, caseInsensitive: false };
}

/** The comma-separated list after the operator (see the module comment). */
export function parseValues(text: string): string[] {
  const values: string[] = [];
  let i = skipSpaces(text, 0);
  if (i === text.length) return values;
  for (;;) {
    if (text[i] === '"') {
      const end = endOfJsonString(text, i);
      values.push(JSON.parse(text.slice(i, end)) as string);
      i = end;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',') end++;
      const value = text.slice(i, end).trimEnd();
      if (value === '') throw new ConstraintSyntaxError(`empty value at character ${i + 1}: write "" for an empty string, or remove the extra comma`);
      if (/[\s"]/.test(value)) {
        throw new ConstraintSyntaxError(
          `the value ${JSON.stringify(value)} contains a space or a quote: write it in double quotes, as a JSON string, e.g. ${JSON.stringify(value)}`,
        );
      }
      values.push(value);
      i += value.length;
    }
    i = skipSpaces(text, i);
    if (i === text.length) return values;
    if (text[i] !== ',') throw new ConstraintSyntaxError(`expected a comma or the end after value ${values.length} (at character ${i + 1})`);
    i = skipSpaces(text, i + 1);
    if (i === text.length) throw new ConstraintSyntaxError('a comma at the end: remove it, or write "" for an empty last value');
  }
}

/** The values as `parseValues` reads them back: bare where that is unambiguous, else JSON strings. */
export function formatConstraintValues(values: readonly string[]): string {
  return values.map((v) => (v === '' || /[\s",]/.test(v) ? JSON.stringify(v) : v)).join(',');
}

/** The whole constraint as a `--constraint` line (without the flags for inverted and caseInsensitive). */
export function formatConstraint(c: Pick<ConstraintInput, 'attribute' | 'operator' | 'values'>): string {
  const values = formatConstraintValues(c.values);
  return values === '' ? `${c.attribute} ${c.operator}` : `${c.attribute} ${c.operator} ${values}`;
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** The index just after the JSON string literal that starts at `start` (a `"`). */
function endOfJsonString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') {
      const literal = text.slice(start, i + 1);
      try {
        JSON.parse(literal);
      } catch {
        throw new ConstraintSyntaxError(`${literal} is not a valid JSON string (escapes: \\" \\\\ \\n \\uXXXX)`);
      }
      return i + 1;
    }
  }
  throw new ConstraintSyntaxError(`a quoted value starting at character ${start + 1} has no closing quote`);
}
