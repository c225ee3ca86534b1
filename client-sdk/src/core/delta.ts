/**
 * Snapshot deltas (PROTOCOL.md, `event: delta`): what changed between two revisions, as complete
 * definitions of the slices and segments that were added or changed plus the keys of those that
 * were removed. A rollback is one slice (about 200 bytes) where the whole snapshot may be 55 KB.
 *
 * The service computes a delta once per new revision ({@link diffSnapshots}); an SDK that holds
 * exactly the base revision applies it to its compiled snapshot (`applyDelta` in evaluate.ts, whose
 * meaning is {@link patchSnapshot}) and anything else asks for the whole snapshot. Pure, no
 * dependencies.
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
 * Checks that `delta` is shaped like a SnapshotDelta: numeric revisions, lists of keyed definitions
 * and of keys, no key named twice in the slices (or the segments) it adds, changes or removes.
 * Definitions themselves are checked when compiled, as in a whole snapshot.
 *
 * @throws TypeError when it is not.
 */
export function readDelta(delta: unknown): SnapshotDelta {
  if (typeof delta !== 'object' || delta === null) throw new TypeError('a delta must be an object');
  const d = delta as Partial<Record<keyof SnapshotDelta, unknown>>;
  if (typeof d.revision !== 'number' || !Number.isFinite(d.revision) || typeof d.baseRevision !== 'number' || !Number.isFinite(d.baseRevision)) {
    throw new TypeError('a delta needs numeric revision and baseRevision');
  }
  if (d.revision <= d.baseRevision) throw new TypeError(`the delta goes to revision ${d.revision}, not after ${d.baseRevision}`);
  checkKeys(d.slices, d.removedSlices, 'slice');
  checkKeys(d.segments, d.removedSegments, 'segment');
  return delta as SnapshotDelta;
}

function checkKeys(upserts: unknown, removals: unknown, what: string): void {
  if (!Array.isArray(upserts) || !Array.isArray(removals)) throw new TypeError(`a delta's ${what}s and removed ${what}s must be lists`);
  const seen = new Set<string>();
  for (const item of upserts as unknown[]) {
    const key = typeof item === 'object' && item !== null ? (item as { key?: unknown }).key : undefined;
    if (typeof key !== 'string') throw new TypeError(`every ${what} of a delta needs a string key`);
    if (seen.has(key)) throw new TypeError(`the delta names ${what} "${key}" twice`);
    seen.add(key);
  }
  for (const key of removals as unknown[]) {
    if (typeof key !== 'string') throw new TypeError(`removed ${what} keys must be strings`);
    if (seen.has(key)) throw new TypeError(`the delta names ${what} "${key}" twice`);
    seen.add(key);
  }
}

/**
 * Applies `delta` to `base`: the reference meaning of a delta (the SDK applies deltas to its
 * compiled snapshot directly, with `applyDelta`, which must agree with this). Unchanged slices and
 * segments are the same objects as in `base`; changed ones replace theirs in place, added ones come
 * last, removed ones are dropped.
 *
 * @throws TypeError when `delta` is not shaped like a delta (see readDelta) or does not apply to
 *   `base`'s revision.
 */
export function patchSnapshot(base: SnapshotDefinition, delta: unknown): SnapshotDefinition {
  const d = readDelta(delta);
  if (d.baseRevision !== base.revision) throw new TypeError(`the delta applies to revision ${d.baseRevision}, not ${base.revision}`);
  return {
    revision: d.revision,
    slices: patchList(base.slices, d.slices, d.removedSlices),
    segments: patchList(base.segments, d.segments, d.removedSegments),
  };
}

function patchList<T extends { readonly key: string }>(base: readonly T[], upserts: readonly T[], removals: readonly string[]): T[] {
  const changed = new Map(upserts.map((item) => [item.key, item]));
  const removed = new Set(removals);
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
