/**
 * Snapshot deltas (PROTOCOL.md, `event: delta`): what changed between two revisions, as complete
 * definitions of the slices and segments that were added or changed plus the keys of those that
 * were removed. A rollback is one slice (about 200 bytes) where the whole snapshot may be 55 KB.
 *
 * The service computes a delta once per new revision ({@link diffSnapshots}); an SDK that holds
 * exactly the base revision applies it ({@link patchSnapshot}) and anything else asks for the whole
 * snapshot. Patching keeps the unchanged definitions as the same objects, which is what lets
 * `compileSnapshot(next, previous)` reuse their compiled form. Pure, no dependencies.
 */
import { jsonEqual } from './json-equal.js';
import type { SegmentDefinition, SliceDefinition, SnapshotDefinition } from './types.js';

/** The change from revision `baseRevision` to `revision`. */
export interface SnapshotDelta {
  readonly revision: number;
  /** The revision the delta applies to; a holder of any other revision needs the whole snapshot. */
  readonly baseRevision: number;
  /** Slices added or changed, complete. */
  readonly slices: readonly SliceDefinition[];
  /** Keys of the slices no longer in the snapshot. */
  readonly removedSlices: readonly string[];
  /** Segments added or changed, complete. */
  readonly segments: readonly SegmentDefinition[];
  /** Keys of the segments no longer in the snapshot. */
  readonly removedSegments: readonly string[];
}

/** The delta that turns `base` into `next` (compared per key, by value). */
export function diffSnapshots(base: SnapshotDefinition, next: SnapshotDefinition): SnapshotDelta {
  const slices = diffByKey(base.slices, next.slices);
  const segments = diffByKey(base.segments, next.segments);
  return {
    revision: next.revision,
    baseRevision: base.revision,
    slices: slices.upserted,
    removedSlices: slices.removed,
    segments: segments.upserted,
    removedSegments: segments.removed,
  };
}

function diffByKey<T extends { readonly key: string }>(before: readonly T[], after: readonly T[]): { upserted: T[]; removed: string[] } {
  const old = new Map(before.map((item) => [item.key, item]));
  const upserted = after.filter((item) => !jsonEqual(old.get(item.key), item));
  const present = new Set(after.map((item) => item.key));
  const removed = before.filter((item) => !present.has(item.key)).map((item) => item.key);
  return { upserted, removed };
}

/**
 * Applies `delta` to `base`. Unchanged slices and segments are the same objects as in `base`;
 * changed ones replace theirs in place, added ones come last, removed ones are dropped.
 *
 * @throws TypeError when `delta` is not shaped like a delta, does not apply to `base`'s revision,
 *   does not move forward, or names a key twice. The caller then needs the whole snapshot.
 */
export function patchSnapshot(base: SnapshotDefinition, delta: unknown): SnapshotDefinition {
  if (typeof delta !== 'object' || delta === null) throw new TypeError('a delta must be an object');
  const d = delta as Partial<Record<keyof SnapshotDelta, unknown>>;
  if (typeof d.revision !== 'number' || !Number.isFinite(d.revision) || typeof d.baseRevision !== 'number') {
    throw new TypeError('a delta needs numeric revision and baseRevision');
  }
  if (d.baseRevision !== base.revision) throw new TypeError(`the delta applies to revision ${d.baseRevision}, not ${base.revision}`);
  if (d.revision <= base.revision) throw new TypeError(`the delta goes to revision ${d.revision}, not after ${base.revision}`);
  return {
    revision: d.revision,
    slices: patchList<SliceDefinition>(base.slices, d.slices, d.removedSlices, 'slice'),
    segments: patchList<SegmentDefinition>(base.segments, d.segments, d.removedSegments, 'segment'),
  };
}

function patchList<T extends { readonly key: string }>(base: readonly T[], upserts: unknown, removals: unknown, what: string): T[] {
  if (!Array.isArray(upserts) || !Array.isArray(removals)) throw new TypeError(`a delta's ${what}s and removed ${what}s must be lists`);
  const changed = new Map<string, T>();
  for (const item of upserts as unknown[]) {
    const key = typeof item === 'object' && item !== null ? (item as { key?: unknown }).key : undefined;
    if (typeof key !== 'string') throw new TypeError(`every ${what} of a delta needs a string key`);
    if (changed.has(key)) throw new TypeError(`the delta names ${what} "${key}" twice`);
    changed.set(key, item as T);
  }
  const removed = new Set<string>();
  for (const key of removals as unknown[]) {
    if (typeof key !== 'string') throw new TypeError(`removed ${what} keys must be strings`);
    if (changed.has(key) || removed.has(key)) throw new TypeError(`the delta names ${what} "${key}" twice`);
    removed.add(key);
  }
  const result: T[] = [];
  for (const item of base) {
    if (removed.has(item.key)) continue;
    const replacement = changed.get(item.key);
    if (replacement === undefined) {
      result.push(item);
    } else {
      result.push(replacement);
      changed.delete(item.key);
    }
  }
  for (const added of changed.values()) result.push(added);
  return result;
}
