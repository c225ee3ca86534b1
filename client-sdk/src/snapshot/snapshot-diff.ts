/**
 * Which slices a new snapshot changes, for `onChange`: compared per slice key on the definitions
 * (not the compiled form), plus every slice that uses a segment whose definition changed, since
 * such a slice may decide differently although its own definition is the same. Pure.
 */
import { jsonEqual, type RuleDefinition, type SegmentDefinition, type SliceDefinition, type SnapshotDefinition } from '../core/index.js';

/**
 * The keys of the slices that were added, removed or changed between `previous` and `next`, or
 * that refer to a segment that was added, removed or changed; sorted. With no previous snapshot,
 * every slice of `next`.
 */
export function changedSlices(previous: SnapshotDefinition | null, next: SnapshotDefinition): string[] {
  const before = byKey<SliceDefinition>(previous?.slices);
  const after = byKey<SliceDefinition>(next.slices);
  const segmentsBefore = byKey<SegmentDefinition>(previous?.segments);
  const segmentsAfter = byKey<SegmentDefinition>(next.segments);

  const changedSegments = new Set<string>();
  for (const key of union(segmentsBefore, segmentsAfter)) {
    if (!jsonEqual(segmentsBefore.get(key), segmentsAfter.get(key))) changedSegments.add(key);
  }

  const changed: string[] = [];
  for (const key of union(before, after)) {
    const slice = after.get(key);
    if (!jsonEqual(before.get(key), slice) || (slice !== undefined && changedSegments.size > 0 && usesAny(slice, changedSegments))) {
      changed.push(key);
    }
  }
  return changed.sort();
}

function byKey<T extends { readonly key: string }>(list: readonly T[] | undefined): Map<string, T> {
  const map = new Map<string, T>();
  // Array.isArray narrows a readonly array to any[]: the declared element type, back.
  if (Array.isArray(list)) for (const item of list as readonly T[]) map.set(item.key, item);
  return map;
}

function union(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): Set<string> {
  return new Set([...a.keys(), ...b.keys()]);
}

/** Does the slice's targeting refer to any of these segments? Tolerates malformed targeting. */
function usesAny(slice: SliceDefinition, segments: ReadonlySet<string>): boolean {
  const targeting = slice.targeting as Partial<SliceDefinition['targeting']> | undefined;
  if (typeof targeting !== 'object' || targeting === null) return false;
  const hit = (keys: unknown): boolean => Array.isArray(keys) && keys.some((key) => segments.has(key as string));
  if (hit(targeting.include) || hit(targeting.exclude)) return true;
  return Array.isArray(targeting.rules) && targeting.rules.some((rule: RuleDefinition | null) => typeof rule === 'object' && rule !== null && hit(rule.segments));
}
