/**
 * Slices as Unleash toggles: pure, no I/O. One toggle per slice, named by the slice key, whose
 * strategies give, under Unleash's rule ("on when ANY strategy passes; a strategy passes when ALL
 * its constraints hold and its rollout admits the subject"), our decision (DESIGN.md, "The
 * decision") for every context.
 *
 * For an ACTIVE slice, with E = OR of the exclude segments, I = OR of the include segments, M_i =
 * the AND of rule i's segments, and roll(bp) = "the subject's position is below bp":
 *
 *     NEW  <=>  not E  and  ( I  or  R )
 *     R    =    OR_i ( M_i and not M_1 and ... and not M_(i-1) and roll(bp_i) )
 *          or   ( not M_1 and ... and not M_n and roll(bp_slice) )
 *
 * Segments and rules are conjunctions of constraints; a negated conjunction is the disjunction of
 * its negated constraints, and a negated constraint is the same constraint with `inverted` flipped
 * (Unleash's `inverted` negates the operator's whole result, a missing attribute included:
 * `checkConstraint` in unleash-client's strategy.js, `invert(inverted)` in Yggdrasil; operators are
 * only ever ones the API accepted, so the "unknown operator is false even inverted" case cannot
 * arise). Constraints map onto Unleash constraints one to one, with the same operator names and
 * semantics, except two that not every SDK reads as we do and that are rewritten exactly
 * (`atomsOf`): SEMVER_GTE / SEMVER_LTE and case-insensitive IN / NOT_IN. The formula is expanded
 * into disjunctive normal form; each term (constraints plus one rollout) becomes one strategy:
 *  - roll(0): the term is dropped;
 *  - roll(10000): strategy `default` (no stickiness needed, as in step 5 of the decision);
 *  - otherwise `flexibleRollout` with `rollout` = floor(bp / 100), `stickiness` = the slice's
 *    attribute, `groupId` = the slice key. At whole percents that is exactly our bucketing (bucket
 *    `h % 100 + 1 <= percent` iff position < bp, bucket.ts). At fractional percents (0.25 %) it
 *    is the conservative form: fewer subjects on NEW, never more. Rollouts only ever appear
 *    un-negated in the formula, so rounding one down only removes subjects from NEW.
 *
 * A toggle without strategies is ON for everyone in Unleash (client.js `isFeatureEnabled`), so a
 * slice whose expansion is empty (0 %, nobody included) is served `enabled: false`, as are
 * ROLLED_BACK and ARCHIVED slices. What no Unleash SDK can evaluate as we do is left out, strategy
 * by strategy (the conservative form: see `Approximation`); a slice whose expansion passes the
 * strategy cap is served `enabled: false` (everyone LEGACY, the safe side of a migration). Both
 * come back with the reason, for the caller to log, and in the toggle's description.
 *
 * If you change the decision (evaluate.ts) or the bucketing (bucket.ts), change this too: the
 * e2e test test/e2e/unleash-compat.e2e.spec.ts compares the two over real SDKs.
 */

import {
  type Constraint,
  CURRENT_TIME_ATTRIBUTE,
  isBasisPoints,
  isSingleValueOperator,
  MAX_BASIS_POINTS,
  type SegmentDefinition,
  type SliceDefinition,
  type SnapshotDefinition,
} from '@switchyard/client-sdk/core';
import type { UnleashConstraint, UnleashFeature, UnleashStrategy } from './unleash-protocol.js';

/** Most strategies one toggle may carry; beyond it the slice is served disabled. */
export const MAX_STRATEGIES_PER_TOGGLE = 1000;

/**
 * Names an Unleash SDK does not resolve as plain context values: `properties` is the context's own
 * property bag (unleash-client helpers.js `resolveContextValue` reads `context[name]` first), and,
 * as a stickiness, `default` and `random` are keywords (flexible-rollout-strategy.js
 * `resolveStickiness`; Yggdrasil strategy_upgrade.rs `upgrade_stickiness`).
 */
const RESERVED_ATTRIBUTE = 'properties';
const RESERVED_STICKINESS: ReadonlySet<string> = new Set(['default', 'random', RESERVED_ATTRIBUTE]);

/** Why an ACTIVE slice is served disabled (everyone LEGACY). */
export type InexpressibleReason = { readonly code: 'TOO_MANY_STRATEGIES'; readonly limit: number };

/**
 * Why a served toggle is the conservative form (some subjects LEGACY whom we send to NEW, never the
 * reverse) rather than exact. Each but the first means strategies were left out:
 * - FRACTIONAL_PERCENT: a share such as 0.25 % rounded down to a whole percent;
 * - DATE_ATTRIBUTE: strategies needing a DATE_* constraint on an attribute other than
 *   `currentTime` (the Node SDK reads `currentTime` whatever the attribute, the Go SDK takes
 *   "now" when the attribute is missing: no reading is common to the SDKs);
 * - CASE_INSENSITIVE_LIST: strategies needing a case-insensitive IN / NOT_IN too large to expand,
 *   where an SDK ignoring the flag would match more (see `atomsOf`);
 * - RESERVED_ATTRIBUTE: strategies needing a constraint on `properties`;
 * - RESERVED_STICKINESS: rollout strategies of a slice whose stickiness attribute is `default`,
 *   `random` or `properties` (its include segments and 100 % rules still apply).
 */
export type Approximation = 'FRACTIONAL_PERCENT' | 'DATE_ATTRIBUTE' | 'CASE_INSENSITIVE_LIST' | 'RESERVED_ATTRIBUTE' | 'RESERVED_STICKINESS';

export interface ToggleMapping {
  readonly feature: UnleashFeature;
  /** Set when an ACTIVE slice could not be expressed and is served disabled (everyone LEGACY). */
  readonly inexpressible: InexpressibleReason | null;
  /** Empty when the toggle gives exactly our decision; else why it is the conservative form. */
  readonly approximations: readonly Approximation[];
}

export interface MapperOptions {
  readonly maxStrategies?: number;
}

/** One constraint, possibly negated, with the identity used to spot duplicates and contradictions. */
interface Literal {
  /** Identity of the constraint without `inverted`. */
  readonly base: string;
  readonly inverted: boolean;
  readonly constraint: Constraint;
  /** Null when every official SDK evaluates it as we do; else why a strategy needing it is left out. */
  readonly unportable: 'DATE_ATTRIBUTE' | 'CASE_INSENSITIVE_LIST' | 'RESERVED_ATTRIBUTE' | null;
}

/** A conjunction of literals and a rollout in whole percents (1..100; 100 = no rollout needed). */
interface Term {
  readonly literals: readonly Literal[];
  /** `idOf(base, inverted)` of every literal. */
  readonly ids: ReadonlySet<string>;
  readonly percent: number;
}

/** A disjunction of terms. `[]` is false; `[TRUE]` is true. */
type Dnf = readonly Term[];

const TRUE_TERM: Term = { literals: [], ids: new Set(), percent: 100 };
const TRUE: Dnf = [TRUE_TERM];

class ExpansionOverflow extends Error {}

const idOf = (base: string, inverted: boolean): string => `${inverted ? '!' : '='}${base}`;

/** Most values a case-insensitive IN / NOT_IN may expand to (see `caseVariants`). */
export const MAX_CASE_VARIANTS = 1000;

/**
 * Every string whose `toLowerCase()` equals that of one of `values`, or null when that set is not
 * small and finite: values must be ASCII, and the variants at most MAX_CASE_VARIANTS. Exact: the
 * only code point outside ASCII that lower-cases into ASCII is U+212A KELVIN SIGN (to "k"),
 * checked over all of Unicode; any other yields a non-ASCII lower case, which matches no ASCII value.
 */
export function caseVariants(values: readonly string[]): string[] | null {
  const out = new Set<string>();
  for (const value of values) {
    if (!/^[\x00-\x7f]*$/.test(value)) return null;
    let forms = [''];
    for (const ch of value.toLowerCase()) {
      const options = ch === 'k' ? ['k', 'K', '\u212a'] : ch >= 'a' && ch <= 'z' ? [ch, ch.toUpperCase()] : [ch];
      forms = forms.flatMap((f) => options.map((o) => f + o));
      if (out.size + forms.length > MAX_CASE_VARIANTS) return null;
    }
    for (const f of forms) out.add(f);
  }
  return [...out];
}

/**
 * Unleash constraints (none inverted) whose OR is exactly `c`'s operator result before `inverted`,
 * chosen so that every official SDK evaluates them alike:
 * - SEMVER_GTE / SEMVER_LTE are SEMVER_GT or SEMVER_EQ / SEMVER_LT or SEMVER_EQ: Unleash's own
 *   operator set has only EQ, GT and LT (Yggdrasil and the Go SDK know no other; an unknown
 *   operator is false there, even inverted). Invalid or missing versions fail all three alike.
 * - A case-insensitive IN / NOT_IN becomes a case-sensitive one over every case variant of its
 *   values: the Node SDK 6.x, the Go SDK and older Yggdrasil ignore `caseInsensitive` on IN and
 *   NOT_IN, and where negated that would put excluded subjects on NEW. Lists too large to expand
 *   keep the flag (exact for SDKs that implement it, client specification 16).
 * - Anything else maps one to one.
 */
function atomsOf(c: Constraint): Constraint[] {
  const plain = { ...c, inverted: false };
  if (c.operator === 'SEMVER_GTE' || c.operator === 'SEMVER_LTE') {
    return [{ ...plain, operator: c.operator === 'SEMVER_GTE' ? 'SEMVER_GT' : 'SEMVER_LT' }, { ...plain, operator: 'SEMVER_EQ' }];
  }
  if ((c.operator === 'IN' || c.operator === 'NOT_IN') && c.caseInsensitive === true) {
    const variants = caseVariants(c.values);
    if (variants !== null) return [{ ...plain, values: variants, caseInsensitive: false }];
  }
  return [plain];
}

function literalOf(atom: Constraint, inverted: boolean): Literal {
  const values = [...new Set(atom.values)];
  // List operators are "any of the values": order and repetition do not change the meaning.
  if (!isSingleValueOperator(atom.operator)) values.sort();
  const base = JSON.stringify([atom.attribute, atom.operator, values, atom.caseInsensitive === true]);
  return { base, inverted, constraint: atom, unportable: unportability(atom, inverted) };
}

function unportability(atom: Constraint, inverted: boolean): Literal['unportable'] {
  if (atom.attribute === RESERVED_ATTRIBUTE) return 'RESERVED_ATTRIBUTE';
  if (atom.operator.startsWith('DATE_') && atom.attribute !== CURRENT_TIME_ATTRIBUTE) return 'DATE_ATTRIBUTE';
  // An SDK ignoring caseInsensitive matches fewer subjects with IN, more with NOT_IN: harmless
  // (fewer on NEW) only where the literal holds for fewer subjects.
  const matchesMore = (atom.operator === 'IN' && inverted) || (atom.operator === 'NOT_IN' && !inverted);
  if (atom.caseInsensitive === true && matchesMore) return 'CASE_INSENSITIVE_LIST';
  return null;
}

/**
 * `c` (or NOT `c` when `negate`) as a DNF over Unleash constraints. With atoms A1..Ak (their OR is
 * the operator's result), `c` is A1 OR ... OR Ak and NOT `c` is NOT A1 AND ... AND NOT Ak;
 * `inverted` (Unleash's: it negates the whole result, a missing attribute included) swaps the two.
 */
function constraintDnf(c: Constraint, negate: boolean): Dnf {
  const atoms = atomsOf(c);
  if ((c.inverted === true) === negate) return atoms.map((a) => termOf([literalOf(a, false)])!);
  const term = termOf(atoms.map((a) => literalOf(a, true)));
  return term === null ? [] : [term];
}

function termOf(literals: readonly Literal[], percent = 100): Term | null {
  let term: Term | null = { literals: [], ids: new Set(), percent };
  for (const literal of literals) {
    term = withLiteral(term, literal);
    if (term === null) return null;
  }
  return term;
}

/** `term AND literal`: null when that is a contradiction (c and not c). */
function withLiteral(term: Term, literal: Literal): Term | null {
  const id = idOf(literal.base, literal.inverted);
  if (term.ids.has(id)) return term;
  if (term.ids.has(idOf(literal.base, !literal.inverted))) return null;
  return { literals: [...term.literals, literal], ids: new Set([...term.ids, id]), percent: term.percent };
}

/** `a AND b`: null when contradictory. Only one side ever carries a rollout below 100. */
function conjoin(a: Term, b: Term): Term | null {
  let out: Term | null = { ...a, percent: Math.min(a.percent, b.percent) };
  for (const literal of b.literals) {
    out = withLiteral(out, literal);
    if (out === null) return null;
  }
  return out;
}

/** True when every subject `b` admits, `a` admits too (so `a OR b` = `a`). */
function subsumes(a: Term, b: Term): boolean {
  if (a.ids.size > b.ids.size || a.percent < b.percent) return false;
  for (const id of a.ids) if (!b.ids.has(id)) return false;
  return true;
}

/** Removes duplicates and terms another term already covers. Keeps the first-seen order. */
function simplify(terms: readonly Term[]): Term[] {
  const byIds = new Map<string, Term>();
  for (const term of terms) {
    const key = [...term.ids].sort().join('\n');
    const seen = byIds.get(key);
    if (seen === undefined || seen.percent < term.percent) byIds.set(key, seen === undefined ? term : { ...seen, percent: term.percent });
  }
  const unique = [...byIds.values()];
  // Pairwise absorption is quadratic: skip it on lists so long they will overflow anyway.
  if (unique.length > 2 * MAX_STRATEGIES_PER_TOGGLE) return unique; // (the default cap: a bound on work, not on output)
  return unique.filter((term, i) => !unique.some((other, j) => j !== i && subsumes(other, term) && (!subsumes(term, other) || j < i)));
}

function product(a: Dnf, b: Dnf, limit: number): Dnf {
  // Contradictions and absorption may shrink a product, but rarely by this much.
  if (a.length * b.length > limit * 4) throw new ExpansionOverflow();
  const out: Term[] = [];
  for (const x of a) {
    for (const y of b) {
      const z = conjoin(x, y);
      if (z !== null) out.push(z);
    }
  }
  const simplified = simplify(out);
  if (simplified.length > limit) throw new ExpansionOverflow();
  return simplified;
}

/** Whole percents of a share, rounded down (the conservative form), 100 for everyone. */
function wholePercent(basisPoints: number): number {
  return basisPoints >= MAX_BASIS_POINTS ? 100 : Math.floor(basisPoints / 100);
}

class SliceExpander {
  readonly approximations = new Set<Approximation>();

  constructor(
    private readonly segments: ReadonlyMap<string, SegmentDefinition>,
    private readonly limit: number,
  ) {}

  /** The constraints of these segments, all of which must hold; null when one segment matches nobody (missing from the snapshot). */
  constraints(keys: readonly string[]): Constraint[] | null {
    const out: Constraint[] = [];
    for (const key of keys) {
      const segment = this.segments.get(key);
      if (segment === undefined || !Array.isArray(segment.constraints)) return null;
      out.push(...segment.constraints);
    }
    return out;
  }

  /** AND of these segments (TRUE when they have no constraints, FALSE when one is missing). */
  conjunction(keys: readonly string[]): Dnf {
    const constraints = this.constraints(keys);
    if (constraints === null) return [];
    let dnf: Dnf = TRUE;
    for (const c of constraints) dnf = product(dnf, constraintDnf(c, false), this.limit);
    return dnf;
  }

  /** NOT (AND of these segments) = OR of the negated constraints. */
  negatedConjunction(keys: readonly string[]): Dnf {
    const constraints = this.constraints(keys);
    if (constraints === null) return TRUE; // it matches nobody: its negation, everybody
    return simplify(constraints.flatMap((c) => constraintDnf(c, true)));
  }

  withShare(terms: Dnf, basisPoints: number): Term[] {
    if (terms.length > 0 && basisPoints % 100 !== 0) this.approximations.add('FRACTIONAL_PERCENT');
    const percent = wholePercent(basisPoints);
    if (percent === 0) return [];
    return terms.map((t) => ({ ...t, percent: Math.min(t.percent, percent) }));
  }

  expand(slice: SliceDefinition): Dnf {
    const { include, exclude, rules } = slice.targeting;
    let notExcluded: Dnf = TRUE;
    for (const key of exclude) notExcluded = product(notExcluded, this.negatedConjunction([key]), this.limit);

    const positive: Term[] = [];
    for (const key of include) positive.push(...this.conjunction([key]));
    // No rule before this point matched: the DNF of NOT M_1 AND ... AND NOT M_(i-1).
    let noEarlierRule: Dnf = TRUE;
    for (const rule of rules) {
      if (noEarlierRule.length === 0) break; // every subject is taken by an earlier rule
      const matches = this.conjunction(rule.segments);
      if (matches.length === 0) continue; // matches nobody: takes no one from later rules either
      positive.push(...this.withShare(product(noEarlierRule, matches, this.limit), rule.basisPoints));
      noEarlierRule = product(noEarlierRule, this.negatedConjunction(rule.segments), this.limit);
    }
    positive.push(...this.withShare(noEarlierRule, slice.basisPoints));
    // Each branch first, then the exclusions it must also pass: reads as "kenya AND NOT staff".
    return product(simplify(positive), notExcluded, this.limit);
  }
}

function toUnleashConstraint(literal: Literal): UnleashConstraint {
  const c = literal.constraint;
  const base = { contextName: c.attribute, operator: c.operator, values: [...c.values] };
  // NUM_*, DATE_* and SEMVER_* read the singular `value` (unleash-client strategy.js); `values`
  // is kept for readers that look there.
  const value = isSingleValueOperator(c.operator) ? { value: c.values[0] ?? '' } : {};
  return { ...base, ...value, inverted: literal.inverted, caseInsensitive: c.caseInsensitive === true };
}

function toStrategy(term: Term, slice: SliceDefinition): UnleashStrategy {
  const constraints = term.literals.map(toUnleashConstraint);
  if (term.percent >= 100) return { name: 'default', constraints, parameters: {} };
  return {
    name: 'flexibleRollout',
    constraints,
    parameters: { rollout: String(term.percent), stickiness: slice.stickinessAttribute, groupId: slice.key },
  };
}

function feature(name: string, enabled: boolean, strategies: readonly UnleashStrategy[], description?: string): UnleashFeature {
  return {
    name,
    type: 'release',
    project: 'default',
    ...(description !== undefined ? { description } : {}),
    enabled,
    stale: false,
    impressionData: false,
    strategies,
    variants: [],
  };
}

function isWellFormed(slice: SliceDefinition): boolean {
  const t = slice.targeting as Partial<SliceDefinition['targeting']> | undefined;
  const keys = (v: unknown) => Array.isArray(v) && v.every((k) => typeof k === 'string');
  return (
    isBasisPoints(slice.basisPoints) &&
    typeof slice.stickinessAttribute === 'string' &&
    slice.stickinessAttribute.length > 0 &&
    t !== undefined &&
    keys(t.include) &&
    keys(t.exclude) &&
    Array.isArray(t.rules) &&
    t.rules.every((r) => keys(r?.segments) && isBasisPoints(r?.basisPoints))
  );
}

export function describeInexpressible(reason: InexpressibleReason): string {
  return `its targeting expands to more than ${reason.limit} Unleash strategies`;
}

const APPROXIMATION_TEXT: Record<Approximation, string> = {
  FRACTIONAL_PERCENT: 'a fractional percentage is rounded down to a whole one',
  DATE_ATTRIBUTE: 'a DATE_* constraint reads an attribute other than currentTime',
  CASE_INSENSITIVE_LIST: 'a case-insensitive IN / NOT_IN list is too large to expand',
  RESERVED_ATTRIBUTE: 'a constraint reads "properties", the Unleash context\'s property bag',
  RESERVED_STICKINESS: 'the stickiness attribute is an Unleash stickiness keyword (default, random, properties)',
};

export function describeApproximations(approximations: readonly Approximation[]): string {
  return approximations.map((a) => APPROXIMATION_TEXT[a]).join('; ');
}

/**
 * The toggle for one slice. Never throws on a well-typed definition: what it cannot express exactly
 * comes back in its conservative form (`approximations`) or, past the strategy cap, disabled
 * (`inexpressible`); either way the toggle's description says so, for whoever inspects toggles in
 * an Unleash SDK.
 */
export function mapSlice(slice: SliceDefinition, segments: ReadonlyMap<string, SegmentDefinition>, options: MapperOptions = {}): ToggleMapping {
  const describe = (inexpressible: InexpressibleReason | null, approximations: readonly Approximation[]): string | undefined => {
    if (inexpressible !== null) return `Served disabled to Unleash SDKs (everyone LEGACY): ${describeInexpressible(inexpressible)}.`;
    if (approximations.length > 0) return `Conservative form for Unleash SDKs (fewer subjects on NEW than Switchyard decides): ${describeApproximations(approximations)}.`;
    return undefined;
  };
  const disabled = (inexpressible: InexpressibleReason | null, approximations: readonly Approximation[] = []): ToggleMapping => ({
    feature: feature(slice.key, false, [], describe(inexpressible, approximations)),
    inexpressible,
    approximations,
  });
  if (slice.state !== 'ACTIVE' || !isWellFormed(slice)) return disabled(null);

  const limit = options.maxStrategies ?? MAX_STRATEGIES_PER_TOGGLE;
  const expander = new SliceExpander(segments, limit);
  let expanded: Dnf;
  try {
    expanded = expander.expand(slice);
  } catch (error) {
    if (error instanceof ExpansionOverflow) return disabled({ code: 'TOO_MANY_STRATEGIES', limit });
    throw error;
  }
  // Leaving strategies out only ever removes subjects from NEW (Unleash ORs them). A term that
  // expansion absorbed into one left out here had all its literals and at most its rollout, so it
  // would have been left out too.
  const reservedStickiness = RESERVED_STICKINESS.has(slice.stickinessAttribute);
  const terms: Term[] = [];
  for (const term of expanded) {
    const unportable = term.literals.find((l) => l.unportable !== null)?.unportable ?? null;
    if (unportable !== null) expander.approximations.add(unportable);
    else if (reservedStickiness && term.percent < 100) expander.approximations.add('RESERVED_STICKINESS');
    else terms.push(term);
  }
  const approximations = [...expander.approximations].sort();
  if (terms.length === 0) return disabled(null, approximations);
  return {
    feature: feature(slice.key, true, terms.map((t) => toStrategy(t, slice)), describe(null, approximations)),
    inexpressible: null,
    approximations,
  };
}

/** Every slice of a snapshot, in the snapshot's order (by key). */
export function mapSnapshot(snapshot: SnapshotDefinition, options: MapperOptions = {}): ToggleMapping[] {
  const segments = new Map(snapshot.segments.map((s) => [s.key, s]));
  return snapshot.slices.map((slice) => mapSlice(slice, segments, options));
}
