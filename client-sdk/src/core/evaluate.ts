/**
 * The decision (DESIGN.md, "The decision"): one pure function, used by the server's `evaluate` and
 * by the SDK alike.
 *
 * 1. unknown slice → UNKNOWN_SLICE; `ROLLED_BACK` → ROLLED_BACK; `ARCHIVED` → ARCHIVED (all LEGACY)
 * 2. in any of the slice's `rolledBackSegments` (an incident's `rollbackSegment`, kept apart from
 *    the targeting) → LEGACY, SEGMENT_ROLLED_BACK
 * 3. in any `exclude` segment → LEGACY, EXCLUDED (exclude always wins over include)
 * 4. in any `include` segment → NEW, INCLUDED
 * 5. the first rule whose segments all match gives the basis points (reason RULE + `ruleIndex`);
 *    no rule matches → the slice's own basis points (reason ROLLOUT)
 * 6. 0 → LEGACY, 10000 → NEW, with the step-5 reason and no id needed; otherwise a missing or
 *    empty stickiness value → LEGACY, NO_STICKINESS, even when a rule chose the share: the
 *    subject could not be placed, and that is the answer to "why LEGACY?"
 * 7. NEW iff the subject's position (bucket.ts) < basis points, with the step-5 reason.
 *
 * Everything is prepared once per snapshot by {@link compileSnapshot}: each slice's hash state for
 * `sliceKey + ":"`, its segments compiled and resolved, every possible `Decision` object. Deciding
 * for a known ACTIVE slice with a context object then allocates nothing (measured: no young-GC
 * over 10^7 decisions), except where a context value forces it: a `caseInsensitive` constraint
 * lower-casing a value with capitals, a NUM_* value with more than 15 significant digits.
 *
 * Robustness, decided here:
 * - `explain` never throws: a null, undefined or non-object context counts as empty; a non-string
 *   attribute value counts as missing; anything unexpected gives LEGACY with reason ERROR.
 * - A slice that refers to a segment missing from the snapshot treats it as matching nobody (an
 *   include, exclude or segment rollback through it applies to no one; a rule through it never
 *   applies). The server must therefore refuse to delete a segment that a slice still uses,
 *   rolled-back segments included (deleting one would silently send its subjects back to NEW).
 * - A slice that is not well-formed (unknown state, basis points that are not integers 0..10000,
 *   targeting that is not lists of segment keys, `rolledBackSegments` present but not a list of
 *   segment keys, no stickiness attribute) decides LEGACY with
 *   reason ERROR (after ROLLED_BACK / ARCHIVED, which need nothing else).
 * - `compileSnapshot` throws a `TypeError` only when the definition is not shaped like a snapshot
 *   (not an object, no numeric revision, lists that are not lists, keys that are not strings,
 *   duplicate keys): the SDK keeps its last good snapshot then.
 * - `now` is not defaulted here: only a date constraint on `currentTime` without a context value
 *   reads the clock, when it is evaluated (see constraint-match.ts), so the common path neither
 *   reads the clock nor boxes a timestamp.
 */

import type { Decision, EvaluationContext, Path, SegmentDefinition, SliceDefinition, SliceState, SnapshotDefinition } from './types.js';
import { isBasisPoints, MAX_BASIS_POINTS } from './basis-points.js';
import { positionWithPrefix } from './bucket.js';
import { compileSegment, type ContextPredicate } from './constraint-match.js';
import { readDelta } from './delta.js';
import { prepareHashPrefix, type HashPrefix } from './murmur3.js';

/** A snapshot prepared for deciding: immutable, safe to share, cheap to query. */
export interface CompiledSnapshot {
  /** The revision of the snapshot this was compiled from. */
  readonly revision: number;
  /** True when the snapshot defines `sliceKey` (in any state). */
  hasSlice(sliceKey: string): boolean;
  /**
   * The path for a subject and why. Never throws. The returned object is shared and frozen:
   * do not mutate it.
   *
   * @param sliceKey - the slice to decide for.
   * @param context - the subject's attributes; anything that is not an object counts as empty.
   * @param now - the decision time in epoch milliseconds, for date constraints on `currentTime`
   *   when the context has none; omitted, such a constraint reads the clock when evaluated.
   */
  explain(sliceKey: string, context: EvaluationContext | null | undefined, now?: number): Decision;
  /** The path only: `explain(...).path`. Never throws. */
  decide(sliceKey: string, context: EvaluationContext | null | undefined, now?: number): Path;
  /**
   * The context attribute that identifies subjects of `sliceKey` (e.g. `userId`), or undefined when
   * the snapshot has no such slice or the slice names none. One map lookup, no allocation.
   */
  stickinessAttribute(sliceKey: string): string | undefined;
  /**
   * The share of `compare` calls on `sliceKey` that also run the path not served, in basis points
   * (0..10000; docs/outcomes.md): 0 for an unknown slice, or when the snapshot sets none or one
   * that is not an integer in range. One map lookup, no allocation; not part of any decision.
   */
  shadowBasisPoints(sliceKey: string): number;
  /** True when the snapshot marks `sliceKey` as watched (its outcomes are reported every few seconds). */
  isWatched(sliceKey: string): boolean;
  /**
   * The segment keys `sliceKey`'s configuration names (include, exclude, rules, rolled-back
   * segments), each once; empty for an unknown slice. Shared: do not mutate. Not part of any decision.
   */
  namedSegments(sliceKey: string): readonly string[];
  /**
   * Whether the subject is in segment `segmentKey`, with the predicate decisions use (a segment
   * missing from the snapshot matches nobody; anything that is not an object counts as empty).
   * Never throws (false). For segment coverage (docs/segment-rollback.md), not for decisions.
   */
  inSegment(segmentKey: string, context: EvaluationContext | null | undefined, now?: number): boolean;
}

function decision(path: Path, reason: Decision['reason'], ruleIndex?: number): Decision {
  return Object.freeze(ruleIndex === undefined ? { path, reason } : { path, reason, ruleIndex });
}

const UNKNOWN_SLICE = decision('LEGACY', 'UNKNOWN_SLICE');
const ROLLED_BACK = decision('LEGACY', 'ROLLED_BACK');
const ARCHIVED = decision('LEGACY', 'ARCHIVED');
const SEGMENT_ROLLED_BACK = decision('LEGACY', 'SEGMENT_ROLLED_BACK');
const EXCLUDED = decision('LEGACY', 'EXCLUDED');
const INCLUDED = decision('NEW', 'INCLUDED');
const NO_STICKINESS = decision('LEGACY', 'NO_STICKINESS');
const ROLLOUT_NEW = decision('NEW', 'ROLLOUT');
const ROLLOUT_LEGACY = decision('LEGACY', 'ROLLOUT');

/** The fallback when deciding failed: LEGACY, the safe path in a migration, with reason ERROR. */
export const ERROR_DECISION: Decision = decision('LEGACY', 'ERROR');

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});
const MATCHES_NOBODY: ContextPredicate = () => false;

/** A compiled segment with the definition it was compiled from. */
interface CompiledSegment {
  readonly definition: SegmentDefinition;
  readonly compiled: ContextPredicate;
}

/** A share of subjects, with the two decisions it can give (preallocated: deciding allocates nothing). */
interface Share {
  readonly basisPoints: number;
  readonly onNew: Decision;
  readonly onLegacy: Decision;
}

interface CompiledRule extends Share {
  readonly segments: readonly ContextPredicate[];
}

interface CompiledSlice {
  /** What it was compiled from (for applyDelta and definitionOf). */
  readonly definition: SliceDefinition;
  readonly state: SliceState;
  /** Set when the definition is not well-formed: ACTIVE decides ERROR. */
  readonly malformed: boolean;
  readonly stickinessAttribute: string;
  readonly hashPrefix: HashPrefix;
  /** The segments rolled back on this slice (empty for nearly every slice: one length check). */
  readonly rolledBack: readonly ContextPredicate[];
  readonly exclude: readonly ContextPredicate[];
  readonly include: readonly ContextPredicate[];
  readonly rules: readonly CompiledRule[];
  readonly rollout: Share;
  /** Every segment key the targeting names: the slice must be compiled again when one of them changes. */
  readonly segmentKeys: readonly string[];
  /** Observation settings (never read by `decideSlice`): 0 and false unless the definition sets valid ones. */
  readonly shadowBasisPoints: number;
  readonly watched: boolean;
}

const KNOWN_STATES: readonly unknown[] = ['ACTIVE', 'ROLLED_BACK', 'ARCHIVED'];

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function compileSlice(slice: SliceDefinition, segments: ReadonlyMap<string, CompiledSegment>): CompiledSlice {
  const resolve = (key: string): ContextPredicate => segments.get(key)?.compiled ?? MATCHES_NOBODY;
  const targeting: unknown = slice.targeting;
  const t = (typeof targeting === 'object' && targeting !== null ? targeting : {}) as Partial<Record<string, unknown>>;
  const rulesDef: unknown = t.rules;
  const rolledBackDef: unknown = slice.rolledBackSegments;

  let malformed =
    !KNOWN_STATES.includes(slice.state) ||
    !isBasisPoints(slice.basisPoints) ||
    typeof slice.stickinessAttribute !== 'string' ||
    slice.stickinessAttribute.length === 0 ||
    !isStringList(t.include) ||
    !isStringList(t.exclude) ||
    !Array.isArray(rulesDef) ||
    (rolledBackDef !== undefined && !isStringList(rolledBackDef));

  const rules: CompiledRule[] = [];
  if (Array.isArray(rulesDef)) {
    rulesDef.forEach((rule: unknown, index) => {
      const r = (typeof rule === 'object' && rule !== null ? rule : {}) as Partial<Record<string, unknown>>;
      if (!isStringList(r.segments) || !isBasisPoints(r.basisPoints)) {
        malformed = true;
        return;
      }
      rules.push({
        segments: r.segments.map(resolve),
        basisPoints: r.basisPoints,
        onNew: decision('NEW', 'RULE', index),
        onLegacy: decision('LEGACY', 'RULE', index),
      });
    });
  }

  const segmentKeys = new Set<string>();
  const named = [t.include, t.exclude, rolledBackDef];
  if (Array.isArray(rulesDef)) for (const rule of rulesDef) named.push(typeof rule === 'object' && rule !== null ? (rule as { segments?: unknown }).segments : undefined);
  for (const list of named) if (isStringList(list)) for (const key of list) segmentKeys.add(key);

  return {
    definition: slice,
    state: slice.state,
    malformed,
    stickinessAttribute: typeof slice.stickinessAttribute === 'string' ? slice.stickinessAttribute : '',
    hashPrefix: prepareHashPrefix(slice.key + ':'),
    rolledBack: isStringList(rolledBackDef) ? rolledBackDef.map(resolve) : [],
    exclude: isStringList(t.exclude) ? t.exclude.map(resolve) : [],
    include: isStringList(t.include) ? t.include.map(resolve) : [],
    rules,
    rollout: {
      basisPoints: isBasisPoints(slice.basisPoints) ? slice.basisPoints : 0,
      onNew: ROLLOUT_NEW,
      onLegacy: ROLLOUT_LEGACY,
    },
    segmentKeys: [...segmentKeys],
    // Observation settings never make a slice malformed: a bad one only turns the setting off.
    shadowBasisPoints: isBasisPoints(slice.shadowBasisPoints) ? slice.shadowBasisPoints : 0,
    watched: slice.watched === true,
  };
}

type Now = number | undefined;

function anyMatches(predicates: readonly ContextPredicate[], context: EvaluationContext, now: Now): boolean {
  for (let i = 0; i < predicates.length; i++) {
    if ((predicates[i] as ContextPredicate)(context, now)) return true;
  }
  return false;
}

function allMatch(predicates: readonly ContextPredicate[], context: EvaluationContext, now: Now): boolean {
  for (let i = 0; i < predicates.length; i++) {
    if (!(predicates[i] as ContextPredicate)(context, now)) return false;
  }
  return true;
}

/** Steps 1 (state) to 7 for a known slice. May throw only on a hostile context (a throwing getter). */
function decideSlice(slice: CompiledSlice, rawContext: unknown, now: Now): Decision {
  if (slice.state === 'ROLLED_BACK') return ROLLED_BACK;
  if (slice.state === 'ARCHIVED') return ARCHIVED;
  if (slice.malformed) return ERROR_DECISION;

  const context = typeof rawContext === 'object' && rawContext !== null ? (rawContext as EvaluationContext) : EMPTY_CONTEXT;
  if (anyMatches(slice.rolledBack, context, now)) return SEGMENT_ROLLED_BACK;
  if (anyMatches(slice.exclude, context, now)) return EXCLUDED;
  if (anyMatches(slice.include, context, now)) return INCLUDED;

  let share: Share = slice.rollout;
  const rules = slice.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule;
    if (allMatch(rule.segments, context, now)) {
      share = rule;
      break;
    }
  }

  if (share.basisPoints <= 0) return share.onLegacy;
  if (share.basisPoints >= MAX_BASIS_POINTS) return share.onNew;
  // readAttribute's rule (a non-empty string, else missing), read at a site of its own: the
  // stickiness attribute is nearly always the same name, so this read stays monomorphic, where
  // readAttribute's shared site sees every attribute any constraint reads and goes megamorphic.
  const id: unknown = context[slice.stickinessAttribute];
  if (typeof id !== 'string' || id.length === 0) return NO_STICKINESS;
  return positionWithPrefix(slice.hashPrefix, id) < share.basisPoints ? share.onNew : share.onLegacy;
}

/**
 * Slices live in `base`, shared by the snapshots that applyDelta derives one from another, and in a
 * small `overlay` of what changed since `base` was built (null: removed). A delta copies the
 * overlay, not the whole configuration: with 200 slices, copying them per change was most of an
 * SDK's work per change (and its garbage). The overlay is folded into a new base once it holds
 * MAX_OVERLAY slices. Nothing is mutated once built: every snapshot stays valid and shareable.
 */
class Snapshot implements CompiledSnapshot {
  /**
   * The slice found last, and its key: a host deciding in a loop or per request asks for the same
   * slice again and again, usually with the same string (a constant), so `===` settles it by
   * comparing pointers where a Map lookup hashes and probes (about a third of a decision's cost
   * without the hash). A memo only: never changes what `slice` returns, the maps are immutable.
   */
  private lastKey: string | undefined = undefined;
  private lastSlice: CompiledSlice | undefined = undefined;

  constructor(
    readonly revision: number,
    readonly base: ReadonlyMap<string, CompiledSlice>,
    readonly overlay: ReadonlyMap<string, CompiledSlice | null>,
    readonly segments: ReadonlyMap<string, CompiledSegment>,
  ) {}

  /** The compiled slice, or undefined. The memo, else one Map lookup while the overlay is empty, two at most. */
  slice(sliceKey: string): CompiledSlice | undefined {
    if (sliceKey === this.lastKey) return this.lastSlice;
    let found: CompiledSlice | undefined;
    if (this.overlay.size === 0) found = this.base.get(sliceKey);
    else {
      const changed = this.overlay.get(sliceKey);
      found = changed === undefined ? this.base.get(sliceKey) : (changed ?? undefined);
    }
    // Only found slices and string keys: an unknown key must not evict the slice a host decides on.
    if (found !== undefined && typeof sliceKey === 'string') {
      this.lastKey = sliceKey;
      this.lastSlice = found;
    }
    return found;
  }

  /** Every slice, base and overlay merged. */
  *slices(): IterableIterator<CompiledSlice> {
    for (const [key, slice] of this.base) if (!this.overlay.has(key)) yield slice;
    for (const slice of this.overlay.values()) if (slice !== null) yield slice;
  }

  hasSlice(sliceKey: string): boolean {
    return this.slice(sliceKey) !== undefined;
  }

  explain(sliceKey: string, context: EvaluationContext | null | undefined, now?: number): Decision {
    try {
      const slice = this.slice(sliceKey);
      return slice === undefined ? UNKNOWN_SLICE : decideSlice(slice, context, now);
    } catch {
      return ERROR_DECISION;
    }
  }

  decide(sliceKey: string, context: EvaluationContext | null | undefined, now?: number): Path {
    return this.explain(sliceKey, context, now).path;
  }

  stickinessAttribute(sliceKey: string): string | undefined {
    const attribute = this.slice(sliceKey)?.stickinessAttribute;
    return attribute === '' ? undefined : attribute;
  }

  shadowBasisPoints(sliceKey: string): number {
    return this.slice(sliceKey)?.shadowBasisPoints ?? 0;
  }

  isWatched(sliceKey: string): boolean {
    return this.slice(sliceKey)?.watched === true;
  }

  namedSegments(sliceKey: string): readonly string[] {
    return this.slice(sliceKey)?.segmentKeys ?? NO_SEGMENTS;
  }

  inSegment(segmentKey: string, context: EvaluationContext | null | undefined, now?: number): boolean {
    try {
      const predicate = this.segments.get(segmentKey)?.compiled;
      if (predicate === undefined) return false;
      return predicate(typeof context === 'object' && context !== null ? context : EMPTY_CONTEXT, now);
    } catch {
      return false;
    }
  }
}

const NO_SEGMENTS: readonly string[] = Object.freeze([]);

/** Changed slices an overlay holds before applyDelta folds it into a new base. */
export const MAX_OVERLAY = 64;

const NO_OVERLAY: ReadonlyMap<string, CompiledSlice | null> = new Map();

function keyed<T extends { readonly key: string }>(list: unknown, what: string): readonly T[] {
  if (!Array.isArray(list)) throw new TypeError(`snapshot ${what}s must be a list`);
  const seen = new Set<string>();
  for (const item of list) {
    if (typeof item !== 'object' || item === null || typeof (item as T).key !== 'string') {
      throw new TypeError(`every snapshot ${what} needs a string key`);
    }
    if (seen.has((item as T).key)) throw new TypeError(`duplicate ${what} key "${(item as T).key}"`);
    seen.add((item as T).key);
  }
  return list as T[];
}

/**
 * Prepares a snapshot for deciding: compile once per revision, then call `explain` / `decide`
 * as often as needed.
 *
 * @throws TypeError when `def` is not shaped like a snapshot (see the module comment); finer
 * problems never throw but give reason ERROR for the slice concerned.
 */
export function compileSnapshot(def: SnapshotDefinition): CompiledSnapshot {
  if (typeof def !== 'object' || def === null) throw new TypeError('a snapshot must be an object');
  if (typeof def.revision !== 'number' || !Number.isFinite(def.revision)) {
    throw new TypeError('a snapshot needs a numeric revision');
  }
  const segmentDefs = keyed<SegmentDefinition>(def.segments, 'segment');
  const sliceDefs = keyed<SliceDefinition>(def.slices, 'slice');

  const segments = new Map<string, CompiledSegment>();
  for (const segment of segmentDefs) segments.set(segment.key, { definition: segment, compiled: compileSegment(segment) });

  const slices = new Map<string, CompiledSlice>();
  for (const slice of sliceDefs) slices.set(slice.key, compileSlice(slice, segments));
  return new Snapshot(def.revision, slices, NO_OVERLAY, segments);
}

/**
 * Applies a delta (PROTOCOL.md, `event: delta`; delta.ts) to a compiled snapshot: compiles only the
 * slices and segments it carries, and the slices that name a segment it changes or removes; every
 * other compiled slice is reused. The result decides exactly as `compileSnapshot(patchSnapshot(
 * definitionOf(previous), delta))` would, at a cost proportional to the change, not to the
 * configuration: a rollback among 200 slices compiles one.
 *
 * @param previous - a snapshot from compileSnapshot or applyDelta.
 * @returns the new snapshot, and the keys of the slices that may decide differently (added,
 *   removed, changed, or naming a changed segment), sorted.
 * @throws TypeError when `delta` is not shaped like a delta or does not apply to `previous`'s revision.
 */
export function applyDelta(previous: CompiledSnapshot, delta: unknown): { readonly snapshot: CompiledSnapshot; readonly changedSlices: string[] } {
  if (!(previous instanceof Snapshot)) throw new TypeError('applyDelta needs a snapshot compiled by this module');
  const d = readDelta(delta);
  if (d.baseRevision !== previous.revision) throw new TypeError(`the delta applies to revision ${d.baseRevision}, not ${previous.revision}`);

  const segments = new Map(previous.segments);
  const changedSegments = new Set<string>();
  for (const key of d.removedSegments) if (segments.delete(key)) changedSegments.add(key);
  for (const segment of d.segments) {
    segments.set(segment.key, { definition: segment, compiled: compileSegment(segment) });
    changedSegments.add(segment.key);
  }

  const overlay = new Map(previous.overlay);
  const changed = new Set<string>();
  const recompile = (slice: SliceDefinition): void => {
    overlay.set(slice.key, compileSlice(slice, segments));
    changed.add(slice.key);
  };
  for (const key of d.removedSlices) {
    if (previous.slice(key) === undefined) continue;
    overlay.set(key, null);
    changed.add(key);
  }
  for (const slice of d.slices) recompile(slice);
  // A changed segment changes the decisions of every slice naming it (rare: rollouts and rollbacks
  // change no segment), found by one pass over the slices.
  if (changedSegments.size > 0) {
    for (const slice of previous.slices()) {
      if (!changed.has(slice.definition.key) && slice.segmentKeys.some((segment) => changedSegments.has(segment))) recompile(slice.definition);
    }
  }

  const snapshot = new Snapshot(d.revision, previous.base, overlay, segments);
  return { snapshot: overlay.size > MAX_OVERLAY ? compactSnapshot(snapshot) : snapshot, changedSlices: [...changed].sort() };
}

/**
 * The same snapshot with its changes since the last full compile folded into one map, so that each
 * decision is one lookup again (an overlay costs about 4 ns a decision). Costs a copy of the slice
 * map: the SDK does it a moment after a delta, off the path of the change itself.
 */
export function compactSnapshot(snapshot: CompiledSnapshot): CompiledSnapshot {
  if (!(snapshot instanceof Snapshot) || snapshot.overlay.size === 0) return snapshot;
  const base = new Map(snapshot.base);
  for (const [key, slice] of snapshot.overlay) {
    if (slice === null) base.delete(key);
    else base.set(key, slice);
  }
  return new Snapshot(snapshot.revision, base, NO_OVERLAY, snapshot.segments);
}

/** The definition a snapshot was compiled from (rebuilt from its parts: call it when needed, not per decision). */
export function definitionOf(snapshot: CompiledSnapshot): SnapshotDefinition {
  if (!(snapshot instanceof Snapshot)) throw new TypeError('definitionOf needs a snapshot compiled by this module');
  return {
    revision: snapshot.revision,
    slices: [...snapshot.slices()].map((slice) => slice.definition),
    segments: [...snapshot.segments.values()].map((segment) => segment.definition),
  };
}

/**
 * Decides for one slice without a prepared snapshot: compiles on every call, so use it for
 * one-off checks (previews, tools, tests), not on a request path. Never throws.
 *
 * @param segments - the segment definitions the slice may refer to.
 */
export function evaluateSlice(slice: SliceDefinition, segments: readonly SegmentDefinition[], context: EvaluationContext | null | undefined, now?: number): Decision {
  try {
    return compileSnapshot({ revision: 0, slices: [slice], segments }).explain(slice.key, context, now);
  } catch {
    return ERROR_DECISION;
  }
}
