/**
 * Slices as Unleash toggles: pure, no I/O. One toggle per slice, named by the slice key, whose
 * strategies give, under Unleash's rule ("on when ANY strategy passes; a strategy passes when ALL
 * its constraints hold and its rollout admits the subject"), our decision (DESIGN.md, "The
 * decision") for every context, as far as the SDK reading it can evaluate it (its client
 * specification level, unleash-constraints.ts).
 *
 * For an ACTIVE slice, with E = OR of the exclude segments and of the rolled-back segments
 * (`rolledBackSegments`, docs/segment-rollback.md: to an Unleash SDK a segment rollback is one more
 * exclusion; only the reason differs, and the toggle's description names it), I = OR of the include segments, M_i =
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
 * arise), or for IN / NOT_IN the other one of the two. Constraints are first rewritten into ones
 * every SDK reads alike (`atomsOf`). The formula is expanded into disjunctive normal form (dnf.ts)
 * once per slice, whatever the SDK; each term (constraints plus one rollout) becomes one strategy:
 *  - roll(0): the term is dropped;
 *  - roll(10000): strategy `default` (no stickiness needed, as in step 5 of the decision);
 *  - otherwise `flexibleRollout` with `rollout` = floor(bp / 100), `stickiness` = the slice's
 *    attribute, `groupId` = the slice key. At whole percents that is exactly our bucketing (bucket
 *    `h % 100 + 1 <= percent` iff position < bp, bucket.ts). At fractional percents (0.25 %) it
 *    is the conservative form: fewer subjects on NEW, never more. Rollouts only ever appear
 *    un-negated in the formula, so rounding one down only removes subjects from NEW.
 *
 * Then, per client level (`toggleFor`), the strategies that need a constraint the level cannot
 * evaluate are left out, and those whose constraints it evaluates as true for fewer subjects than
 * we do are kept (unleash-constraints.ts `support`). Unleash ORs strategies, so leaving one out
 * only ever removes subjects from NEW: an exclusion an SDK cannot express takes with it every
 * strategy it guards, down to the whole toggle. A negated constraint is never merely dropped from
 * a strategy (that would widen it).
 *
 * A toggle without strategies is ON for everyone in Unleash (client.js `isFeatureEnabled`), so a
 * slice with no strategy left (0 %, nobody included, or everything left out) is served
 * `enabled: false`, as are ROLLED_BACK and ARCHIVED slices; a slice whose expansion passes the
 * strategy cap is served `enabled: false` (everyone LEGACY, the safe side of a migration). The
 * reasons come back for the caller and in the toggle's description.
 *
 * If you change the decision (evaluate.ts) or the bucketing (bucket.ts), change this too: the
 * e2e test test/e2e/unleash-compat.e2e.spec.ts compares the two over real SDKs.
 */

import {
  type Constraint,
  isBasisPoints,
  MAX_BASIS_POINTS,
  type RuleDefinition,
  type SegmentDefinition,
  type SliceDefinition,
  type SnapshotDefinition,
} from '@switchyard/client-sdk/core';
import { type Dnf, ExpansionOverflow, product, simplify, type Term, termOf, trueDnf } from './dnf.js';
import {
  type Approximation,
  atomsOf,
  CLIENT_LEVELS,
  type ClientLevel,
  describeApproximations,
  literalOf,
  NEWEST_LEVEL,
  stickinessSupport,
  support,
  toUnleashConstraint,
} from './unleash-constraints.js';
import type { ServedForm } from '../../traffic/served-forms.js';
import type { UnleashFeature, UnleashStrategy } from './unleash-protocol.js';

/** Most strategies one toggle may carry; beyond it the slice is served disabled. */
export const MAX_STRATEGIES_PER_TOGGLE = 1000;

/** Why an ACTIVE slice is served disabled (everyone LEGACY) to every SDK. */
export type InexpressibleReason = { readonly code: 'TOO_MANY_STRATEGIES'; readonly limit: number };

export interface ToggleMapping {
  readonly feature: UnleashFeature;
  /**
   * EXACT (a rolled-back slice served disabled is exact), CONSERVATIVE, or DISABLED: an ACTIVE
   * slice served disabled (everyone LEGACY) because nothing finer is exact. What followers show.
   */
  readonly form: ServedForm;
  /** Set when an ACTIVE slice could not be expressed and is served disabled (everyone LEGACY). */
  readonly inexpressible: InexpressibleReason | null;
  /** Empty when the toggle gives exactly our decision; else why it is the conservative form. */
  readonly approximations: readonly Approximation[];
}

export interface MapperOptions {
  readonly maxStrategies?: number;
}

type Atom = Constraint;

/** A slice's targeting as one DNF, before any SDK's limits (see `expandSlice`). */
export interface SliceExpansion {
  readonly slice: SliceDefinition;
  /** Null when the slice is served disabled to everyone (not ACTIVE, malformed, or `inexpressible`). */
  readonly terms: Dnf<Atom> | null;
  readonly inexpressible: InexpressibleReason | null;
  /** FRACTIONAL_PERCENT when a share was rounded down: true for every SDK. */
  readonly approximations: readonly Approximation[];
}

/** `c` (or NOT `c` when `negate`) as a DNF of literals; `inverted` swaps the two. */
function constraintDnf(c: Constraint, negate: boolean, limit: number): Dnf<Atom> {
  const atoms = atomsOf(c);
  // With atoms A1..Ak (their OR is the operator's result), c is A1 OR ... OR Ak and NOT c is
  // NOT A1 AND ... AND NOT Ak.
  if ((c.inverted === true) === negate)
    return simplify(
      atoms.map((a) => termOf([literalOf(a, false)])!),
      limit,
    );
  const term = termOf(atoms.map((a) => literalOf(a, true)));
  return term === null ? [] : [term];
}

/** Whole percents of a share, rounded down (the conservative form), 100 for everyone. */
function wholePercent(basisPoints: number): number {
  return basisPoints >= MAX_BASIS_POINTS ? 100 : Math.floor(basisPoints / 100);
}

class SliceExpander {
  fractional = false;

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
      // Array.isArray narrows a readonly array to any[]: the declared element type, back.
      out.push(...(segment.constraints as readonly Constraint[]));
    }
    return out;
  }

  /** AND of these segments (TRUE when they have no constraints, FALSE when one is missing). */
  conjunction(keys: readonly string[]): Dnf<Atom> {
    const constraints = this.constraints(keys);
    if (constraints === null) return [];
    let dnf = trueDnf<Atom>();
    for (const c of constraints) dnf = product(dnf, constraintDnf(c, false, this.limit), this.limit);
    return dnf;
  }

  /** NOT (AND of these segments) = OR of the negated constraints. */
  negatedConjunction(keys: readonly string[]): Dnf<Atom> {
    const constraints = this.constraints(keys);
    if (constraints === null) return trueDnf(); // it matches nobody: its negation, everybody
    return simplify(
      constraints.flatMap((c) => constraintDnf(c, true, this.limit)),
      this.limit,
    );
  }

  withShare(terms: Dnf<Atom>, basisPoints: number): Term<Atom>[] {
    if (terms.length > 0 && basisPoints % 100 !== 0) this.fractional = true;
    const percent = wholePercent(basisPoints);
    if (percent === 0) return [];
    return terms.map((t) => ({ ...t, percent: Math.min(t.percent, percent) }));
  }

  expand(slice: SliceDefinition): Dnf<Atom> {
    const { include, exclude, rules } = slice.targeting;
    let notExcluded = trueDnf<Atom>();
    // Rolled-back segments first: where an SDK cannot express their negation, the strategies they
    // guard are left out (selectTerms), so the segment gets fewer subjects on NEW, never more.
    for (const key of [...(slice.rolledBackSegments ?? []), ...exclude]) notExcluded = product(notExcluded, this.negatedConjunction([key]), this.limit);

    const positive: Term<Atom>[] = [];
    for (const key of include) positive.push(...this.conjunction([key]));
    // No rule before this point matched: the DNF of NOT M_1 AND ... AND NOT M_(i-1).
    let noEarlierRule = trueDnf<Atom>();
    for (const rule of rules) {
      if (noEarlierRule.length === 0) break; // every subject is taken by an earlier rule
      const matches = this.conjunction(rule.segments);
      if (matches.length === 0) continue; // matches nobody: takes no one from later rules either
      positive.push(...this.withShare(product(noEarlierRule, matches, this.limit), rule.basisPoints));
      noEarlierRule = product(noEarlierRule, this.negatedConjunction(rule.segments), this.limit);
    }
    positive.push(...this.withShare(noEarlierRule, slice.basisPoints));
    // Each branch first, then the exclusions it must also pass: reads as "kenya AND NOT staff".
    return product(simplify(positive, this.limit), notExcluded, this.limit);
  }
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
    t.rules.every((r: RuleDefinition | undefined) => keys(r?.segments) && isBasisPoints(r?.basisPoints)) &&
    (slice.rolledBackSegments === undefined || keys(slice.rolledBackSegments))
  );
}

/** A slice's targeting as one DNF, the same for every SDK; what each SDK gets is `toggleFor`. */
export function expandSlice(slice: SliceDefinition, segments: ReadonlyMap<string, SegmentDefinition>, options: MapperOptions = {}): SliceExpansion {
  if (slice.state !== 'ACTIVE' || !isWellFormed(slice)) return { slice, terms: null, inexpressible: null, approximations: [] };
  const limit = options.maxStrategies ?? MAX_STRATEGIES_PER_TOGGLE;
  const expander = new SliceExpander(segments, limit);
  try {
    const terms = expander.expand(slice);
    return { slice, terms, inexpressible: null, approximations: expander.fractional ? ['FRACTIONAL_PERCENT'] : [] };
  } catch (error) {
    if (error instanceof ExpansionOverflow) return { slice, terms: null, inexpressible: { code: 'TOO_MANY_STRATEGIES', limit }, approximations: [] };
    throw error;
  }
}

function toStrategy(term: Term<Atom>, slice: SliceDefinition, level: ClientLevel): UnleashStrategy {
  const constraints = term.literals.map((literal) => toUnleashConstraint(literal, level));
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

export function describeInexpressible(reason: InexpressibleReason): string {
  return `its targeting expands to more than ${reason.limit} Unleash strategies`;
}

/**
 * The toggle's description, for whoever inspects toggles in an Unleash SDK: why it is not exact,
 * and the segments rolled back on the slice (reason SEGMENT_ROLLED_BACK, which an Unleash SDK
 * cannot report); undefined when exact and nothing is rolled back.
 */
function describe(slice: SliceDefinition, inexpressible: InexpressibleReason | null, approximations: readonly Approximation[]): string | undefined {
  const parts: string[] = [];
  if (inexpressible !== null) parts.push(`Served disabled to Unleash SDKs (everyone LEGACY): ${describeInexpressible(inexpressible)}.`);
  else if (approximations.length > 0) parts.push(`Conservative form for Unleash SDKs (fewer subjects on NEW than Switchyard decides): ${describeApproximations(approximations)}.`);
  const rolledBack = slice.state === 'ACTIVE' && Array.isArray(slice.rolledBackSegments) ? slice.rolledBackSegments : [];
  if (rolledBack.length > 0) parts.push(`SEGMENT_ROLLED_BACK: segments rolled back to LEGACY: ${rolledBack.join(', ')}.`);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** What SDKs at `level` get: the toggle's strategies, those they cannot evaluate left out. */
function selectTerms(expansion: SliceExpansion, level: ClientLevel): { kept: Term<Atom>[]; approximations: Set<Approximation> } {
  const approximations = new Set<Approximation>(expansion.approximations);
  const kept: Term<Atom>[] = [];
  const stickiness = stickinessSupport(expansion.slice.stickinessAttribute, level);
  // A term that expansion absorbed into one left out here had all its literals and at most its
  // rollout, so it would have been left out too: absorption never hides a term that is servable.
  for (const term of expansion.terms ?? []) {
    let leftOut: Approximation | null = null;
    const weaker: Approximation[] = [];
    for (const literal of term.literals) {
      const verdict = support(literal, level);
      if (verdict.kind === 'unsupported') {
        leftOut = verdict.why;
        break;
      }
      if (verdict.kind === 'weaker') weaker.push(verdict.why);
    }
    if (leftOut === null && term.percent < 100) leftOut = stickiness;
    if (leftOut !== null) {
      approximations.add(leftOut);
    } else {
      for (const why of weaker) approximations.add(why);
      kept.push(term);
    }
  }
  return { kept, approximations };
}

/** Whether `level` changes how `kept` is written (see toUnleashConstraint): only through case-insensitive IN lists. */
function renderingOf(kept: readonly Term<Atom>[], level: ClientLevel): boolean | null {
  const flagged = kept.some((t) => t.literals.some((l) => l.atom.operator === 'IN' && l.atom.caseInsensitive === true));
  return flagged ? level.operators : null;
}

function build(expansion: SliceExpansion, level: ClientLevel, kept: readonly Term<Atom>[], approximations: readonly Approximation[]): ToggleMapping {
  const { slice, inexpressible } = expansion;
  const degraded = inexpressible !== null || approximations.length > 0;
  if (kept.length === 0) {
    const form: ServedForm = slice.state === 'ACTIVE' && degraded ? 'DISABLED' : 'EXACT';
    return { feature: feature(slice.key, false, [], describe(slice, inexpressible, approximations)), form, inexpressible, approximations };
  }
  return {
    feature: feature(
      slice.key,
      true,
      kept.map((t) => toStrategy(t, slice, level)),
      describe(slice, null, approximations),
    ),
    form: degraded ? 'CONSERVATIVE' : 'EXACT',
    inexpressible: null,
    approximations,
  };
}

/**
 * The toggle SDKs at `level` get for a slice. Never throws on a well-typed definition: what they
 * cannot evaluate exactly comes back in its conservative form (`approximations`) or disabled.
 */
export function toggleFor(expansion: SliceExpansion, level: ClientLevel = NEWEST_LEVEL): ToggleMapping {
  const { kept, approximations } = selectTerms(expansion, level);
  return build(expansion, level, kept, [...approximations].sort());
}

/**
 * The toggle for every level of CLIENT_LEVELS (same order), the targeting expanded once. Levels
 * that get the same toggle share one object (most slices: one for all), so that callers
 * serialize it once; "the same" is decided without serializing (a toggle may carry a thousand
 * strategies): the same strategies kept, written alike, for the same reasons.
 */
export function togglesByLevel(expansion: SliceExpansion): readonly ToggleMapping[] {
  const out: ToggleMapping[] = [];
  let previous: { kept: readonly Term<Atom>[]; approximations: string; rendering: boolean | null; mapping: ToggleMapping } | null = null;
  for (const level of CLIENT_LEVELS) {
    const selected = selectTerms(expansion, level);
    const approximations = [...selected.approximations].sort();
    const rendering = renderingOf(selected.kept, level);
    const same =
      previous !== null &&
      previous.approximations === approximations.join() &&
      previous.rendering === rendering &&
      previous.kept.length === selected.kept.length &&
      previous.kept.every((t, i) => t === selected.kept[i]);
    if (same) {
      out.push(previous!.mapping);
      continue;
    }
    const mapping = build(expansion, level, selected.kept, approximations);
    previous = { kept: selected.kept, approximations: approximations.join(), rendering, mapping };
    out.push(mapping);
  }
  return out;
}

/** The toggle for one slice, for SDKs at `level` (default: those that evaluate everything we serve). */
export function mapSlice(slice: SliceDefinition, segments: ReadonlyMap<string, SegmentDefinition>, options: MapperOptions & { readonly level?: ClientLevel } = {}): ToggleMapping {
  return toggleFor(expandSlice(slice, segments, options), options.level);
}

/** Every slice of a snapshot, in the snapshot's order (by key). */
export function mapSnapshot(snapshot: SnapshotDefinition, options: MapperOptions & { readonly level?: ClientLevel } = {}): ToggleMapping[] {
  const segments = new Map(snapshot.segments.map((s) => [s.key, s]));
  return snapshot.slices.map((slice) => mapSlice(slice, segments, options));
}
