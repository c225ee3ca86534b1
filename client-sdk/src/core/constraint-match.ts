/**
 * Segment constraints with Unleash's semantics, compiled once into predicates so that matching a
 * context parses no constraint value and allocates nothing (except where the context value forces
 * it: lower-casing one with capitals for `caseInsensitive`, a number of over 15 significant digits).
 *
 * DESIGN.md fixes the main rules. Where it is silent we follow the official Unleash SDKs, read in
 * unleash-client-node `src/strategy/strategy.ts`, Yggdrasil (the Rust engine behind most Unleash
 * SDKs) `unleash-yggdrasil/src/strategy_parsing.rs`, and the client specification
 * (`specifications/11-strategy-constraints-edge-cases.json`, `13-constraint-operators.json`,
 * `14-constraint-semver-operators.json`, `16-case-insensitive-in-operators.json`):
 *
 * - `inverted` negates the operator's result once, including the result for a missing attribute:
 *   Node's `checkConstraint` and Yggdrasil's `constraint(...).invert(inverted)` wrap every operator
 *   (Yggdrasil tests: `!context["i_do_not_exist"] in [...]` is true, `... not_in [...]` false).
 * - An unknown operator is false even when inverted (Node returns before inverting; spec 13
 *   `F7.invalid-operator`).
 * - `caseInsensitive` applies to IN and NOT_IN as well as STR_* (spec 16 exists for exactly that;
 *   the older Node code folded only STR_*). It is ignored by NUM_*, DATE_* and SEMVER_*. Folding
 *   is `toLowerCase` (locale-independent, like Rust's `to_lowercase`), not `toLocaleLowerCase`.
 * - NUM_*, DATE_* and SEMVER_* take one value (Unleash's singular `value`); here `values[0]`, and
 *   any other count is invalid. An invalid constraint value makes the operator false, and
 *   `inverted` still applies to that false, as in Node (`Number(undefined)` is NaN, an invalid
 *   semver throws into `catch { return false }`). The server refuses such values at save time.
 * - An empty-string attribute counts as missing. For IN, NOT_IN, STR_* and SEMVER_* that is exactly
 *   what Node and Yggdrasil do (Node drops empty list values, so `""` is in no list). For NUM_* it
 *   follows Rust and Java (`"".parse::<f64>()` fails) rather than Node's `Number("") === 0`; for
 *   DATE_* on `currentTime` it follows Node (`""` is falsy, so "now") where Yggdrasil fails to
 *   parse.
 * - Empty list values are dropped, as Node's `cleanValues` does (so `STR_CONTAINS [""]` matches
 *   nothing; in Yggdrasil it would match everything). Values are not trimmed (Node trims, Yggdrasil
 *   does not); the server refuses empty and untrimmed values so that both readings agree.
 * - NUM_EQ is exact float equality, as in Node (Yggdrasil uses `|a - b| < f64::EPSILON`, which only
 *   differs for values within 2.2e-16 of each other).
 * - DATE_* compare strictly (spec 13: `dateAfter` / `dateBefore` are exclusive of the date) and
 *   read the constraint's own attribute, as Yggdrasil does (Node ignores the attribute name and
 *   always reads `currentTime`); only `currentTime` falls back to the decision time.
 * - A non-string attribute value (a number, an object) counts as missing: the context is a map of
 *   strings, and guessing a conversion would differ between SDKs.
 */

import type { Constraint, EvaluationContext, Operator, SegmentDefinition } from './types.js';
import { decimalResult, parseDecimal, scanDecimal } from './decimal.js';
import { compareEpochMillis, compareRfc3339Text, parseRfc3339, type Instant } from './rfc3339.js';
import { compareSemverText, parseSemver, type SemVer } from './semver.js';

/**
 * A compiled constraint or segment: true when the context matches. `context` must be an object.
 * `now` is the decision time in epoch milliseconds, used only by date constraints on
 * {@link CURRENT_TIME_ATTRIBUTE} when the context has no value; when `undefined`, such a
 * constraint reads the clock as it is evaluated (as the Unleash SDKs do, `new Date()` per date
 * constraint). Reading the clock lazily keeps it, and the boxing of its result, off the hot path.
 */
export type ContextPredicate = (context: EvaluationContext, now: number | undefined) => boolean;

/** The attribute whose date constraints default to the time of the decision. */
export const CURRENT_TIME_ATTRIBUTE = 'currentTime';

/**
 * The value of `attribute` in `context`, or `undefined` when it is absent, not a string, or empty
 * (all three count as "missing" everywhere: in constraints and for stickiness).
 */
export function readAttribute(context: EvaluationContext, attribute: string): string | undefined {
  const value: unknown = context[attribute];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Lower-cases for case-insensitive matching, returning `text` itself when nothing would change in
 * ASCII (the common case), so matching does not allocate for already lower-case values.
 */
export function foldCase(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 0x80) return text.toLowerCase();
  }
  return text;
}

const NEVER: ContextPredicate = () => false;
const ALWAYS: ContextPredicate = () => true;

/** The non-empty string values, folded when case-insensitive (Node's `cleanValues`, minus trim). */
function listValues(values: unknown, caseInsensitive: boolean): string[] {
  const out: string[] = [];
  if (!Array.isArray(values)) return out;
  for (const v of values) {
    if (typeof v === 'string' && v.length > 0) out.push(caseInsensitive ? foldCase(v) : v);
  }
  return out;
}

/** The single value of a NUM_*, DATE_* or SEMVER_* constraint, or `undefined` if not exactly one. */
function singleValue(values: unknown): string | undefined {
  return Array.isArray(values) && values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/**
 * Lists up to this long are searched by `===` rather than a Set: for the few values a segment
 * usually lists (countries, plans), comparing strings is cheaper than hashing the context's value.
 */
const LINEAR_IN_MAX = 8;

function compileIn(attribute: string, values: unknown, caseInsensitive: boolean, isIn: boolean): ContextPredicate {
  const list = [...new Set(listValues(values, caseInsensitive))];
  if (list.length === 0) return isIn ? NEVER : ALWAYS; // IN [] is false, NOT_IN [] true, whatever the context
  if (list.length <= LINEAR_IN_MAX) {
    return (context) => {
      // Read here, not through readAttribute: a property read site of its own, which stays fast
      // (monomorphic) while constraints share it, where readAttribute's one site serves every caller.
      const raw: unknown = context[attribute];
      if (typeof raw !== 'string' || raw.length === 0) return !isIn; // missing fails IN, passes NOT_IN
      const value = caseInsensitive ? foldCase(raw) : raw;
      for (let i = 0; i < list.length; i++) if (list[i] === value) return isIn;
      return !isIn;
    };
  }
  const set = new Set(list);
  return (context) => {
    const raw: unknown = context[attribute];
    if (typeof raw !== 'string' || raw.length === 0) return !isIn;
    return set.has(caseInsensitive ? foldCase(raw) : raw) === isIn;
  };
}

function compileString(attribute: string, operator: 'STR_STARTS_WITH' | 'STR_ENDS_WITH' | 'STR_CONTAINS', values: unknown, caseInsensitive: boolean): ContextPredicate {
  const list = listValues(values, caseInsensitive);
  if (list.length === 0) return NEVER;
  return (context) => {
    const raw = readAttribute(context, attribute);
    if (raw === undefined) return false;
    const value = caseInsensitive ? foldCase(raw) : raw;
    for (let i = 0; i < list.length; i++) {
      const v = list[i] as string;
      const hit = operator === 'STR_STARTS_WITH' ? value.startsWith(v) : operator === 'STR_ENDS_WITH' ? value.endsWith(v) : value.includes(v);
      if (hit) return true;
    }
    return false;
  };
}

function compileNumber(attribute: string, operator: Operator, values: unknown): ContextPredicate {
  const text = singleValue(values);
  const target = text === undefined ? NaN : parseDecimal(text);
  if (Number.isNaN(target)) return NEVER;
  return (context) => {
    const raw = readAttribute(context, attribute);
    if (raw === undefined || !scanDecimal(raw)) return false;
    const x = decimalResult.value; // read from the shared result: a returned double would be boxed
    switch (operator) {
      case 'NUM_EQ':
        return x === target;
      case 'NUM_GT':
        return x > target;
      case 'NUM_GTE':
        return x >= target;
      case 'NUM_LT':
        return x < target;
      default:
        return x <= target; // NUM_LTE
    }
  };
}

function compileDate(attribute: string, operator: Operator, values: unknown): ContextPredicate {
  const text = singleValue(values);
  const target: Instant | null = text === undefined ? null : parseRfc3339(text);
  if (target === null) return NEVER;
  const after = operator === 'DATE_AFTER';
  const defaultsToNow = attribute === CURRENT_TIME_ATTRIBUTE;
  return (context, now) => {
    const raw = readAttribute(context, attribute);
    let c: number;
    if (raw !== undefined) c = compareRfc3339Text(raw, target);
    else if (defaultsToNow) c = compareEpochMillis(now === undefined ? Date.now() : now, target);
    else return false;
    return after ? c > 0 : c < 0; // strict; NaN (unparseable) is false either way
  };
}

function compileSemver(attribute: string, operator: Operator, values: unknown): ContextPredicate {
  const text = singleValue(values);
  const target: SemVer | null = text === undefined ? null : parseSemver(text);
  if (target === null) return NEVER;
  return (context) => {
    const raw = readAttribute(context, attribute);
    if (raw === undefined) return false;
    const c = compareSemverText(raw, target); // NaN when invalid: every comparison below is false
    switch (operator) {
      case 'SEMVER_EQ':
        return c === 0;
      case 'SEMVER_GT':
        return c > 0;
      case 'SEMVER_GTE':
        return c >= 0;
      case 'SEMVER_LT':
        return c < 0;
      default:
        return c <= 0; // SEMVER_LTE
    }
  };
}

/** The operator's predicate before inversion, or `undefined` for an unknown operator. */
function compileOperator(c: Constraint): ContextPredicate | undefined {
  const attribute = c.attribute;
  const caseInsensitive = c.caseInsensitive === true;
  switch (c.operator) {
    case 'IN':
      return compileIn(attribute, c.values, caseInsensitive, true);
    case 'NOT_IN':
      return compileIn(attribute, c.values, caseInsensitive, false);
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
    case 'STR_CONTAINS':
      return compileString(attribute, c.operator, c.values, caseInsensitive);
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE':
      return compileNumber(attribute, c.operator, c.values);
    case 'DATE_AFTER':
    case 'DATE_BEFORE':
      return compileDate(attribute, c.operator, c.values);
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE':
      return compileSemver(attribute, c.operator, c.values);
    default:
      return undefined;
  }
}

/**
 * Compiles one constraint. Never throws: a constraint that is not an object, has a non-string
 * attribute or an unknown operator compiles to "matches nothing" (not inverted).
 */
export function compileConstraint(constraint: Constraint): ContextPredicate {
  if (typeof constraint !== 'object' || constraint === null || typeof constraint.attribute !== 'string') {
    return NEVER;
  }
  const base = compileOperator(constraint);
  if (base === undefined) return NEVER;
  if (constraint.inverted !== true) return base;
  if (base === NEVER) return ALWAYS;
  if (base === ALWAYS) return NEVER;
  return (context, now) => !base(context, now);
}

/**
 * Compiles a segment: it matches when every constraint matches (so a segment without constraints
 * matches everyone, as an Unleash strategy without constraints does). A segment whose
 * `constraints` is not a list matches nobody.
 */
export function compileSegment(segment: SegmentDefinition): ContextPredicate {
  const constraints: unknown = segment?.constraints;
  if (!Array.isArray(constraints)) return NEVER;
  const predicates = constraints.map((c: Constraint) => compileConstraint(c));
  if (predicates.length === 0) return ALWAYS;
  if (predicates.length === 1) return predicates[0] as ContextPredicate;
  return (context, now) => {
    for (let i = 0; i < predicates.length; i++) {
      if (!(predicates[i] as ContextPredicate)(context, now)) return false;
    }
    return true;
  };
}

/**
 * One-off check of a constraint against a context (compiles on every call: tools and tests only).
 * A non-object context counts as empty; without `now`, a `currentTime` date constraint uses the
 * current time.
 */
export function matchesConstraint(constraint: Constraint, context: EvaluationContext | null | undefined, now?: number): boolean {
  const ctx = typeof context === 'object' && context !== null ? context : {};
  return compileConstraint(constraint)(ctx, now);
}
