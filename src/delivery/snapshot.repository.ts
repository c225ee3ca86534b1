import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type Constraint,
  patchSnapshot,
  type SegmentDefinition,
  type SliceDefinition,
  type SliceState,
  type SnapshotDefinition,
  type SnapshotDelta,
  type TargetingDefinition,
} from '@switchyard/client-sdk/core';
import { DataSource, type EntityManager } from 'typeorm';
import { HistoryRepository } from '../history/history.repository.js';

/**
 * Above this many changed slices and segments, a read since a revision reads everything instead:
 * one query for all rows beats a long key list (a rollbackAll of hundreds of slices, an instance
 * far behind).
 */
const MAX_CHANGED_KEYS = 256;

/** The configuration at a revision, and the hash of the history row that revision names (null at 0). */
export interface LoadedConfiguration {
  readonly definition: SnapshotDefinition;
  readonly hash: string | null;
}

interface SliceRow {
  key: string;
  state: SliceState;
  basis_points: number;
  stickiness_attribute: string;
  targeting: TargetingDefinition;
  watched: boolean;
  shadow_basis_points: number;
}

/**
 * Reads the evaluable configuration: whole (`load`), or as what changed since a configuration
 * already held (`loadSince`), which costs the same for 20 slices or 20,000. Both return slices and
 * segments ordered by key (COLLATE "C": byte order, which for keys, ASCII by their pattern, is the
 * order of JavaScript's `<`), so both reads of one revision are equal whatever the database's
 * collation.
 */
@Injectable()
export class SnapshotRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly history: HistoryRepository,
  ) {}

  /**
   * Every slice, the segments they use, and the revision they are at, read in one REPEATABLE READ
   * transaction so that the three agree (a change committing meanwhile is simply not seen yet,
   * and its notification triggers the next load).
   */
  load(): Promise<LoadedConfiguration> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => this.readAll(tx, await this.history.configurationHead(tx)));
  }

  /**
   * The configuration now, read as a change to `held`: only the slices and segments that history
   * names after `held`'s revision are read (every change appends history naming what it changed,
   * in the transaction that changes it, in sequence order: see ChangeService), and the segments in
   * use are checked by key. Unchanged definitions are `held`'s own objects. Returns `held` itself
   * when no newer revision has committed. Reads everything instead when the history up to `held`
   * is not this database's any more (restored from a backup, failed over to a replica that was
   * behind: the hash at that revision differs), when a row names no key, or when many changed.
   * One REPEATABLE READ transaction, like `load`.
   */
  loadSince(held: LoadedConfiguration): Promise<LoadedConfiguration> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const base = held.definition;
      const { head, changes: changed } = await this.history.configurationSince(tx, base.revision);
      if (head.revision <= base.revision) return held;
      if (changed.hashAt !== held.hash || changed.unkeyed || changed.sliceKeys.length + changed.segmentKeys.length > MAX_CHANGED_KEYS) {
        return this.readAll(tx, head);
      }

      const slices = await this.readSlices(tx, changed.sliceKeys);
      const present = new Set(slices.map((s) => s.key));
      const heldSlices = new Set(base.slices.map((s) => s.key));
      const heldSegments = new Set(base.segments.map((g) => g.key));
      // The segments in use now; constraints are read for those changed or not held yet.
      const used: { key: string }[] = await tx.query('SELECT DISTINCT segment_key AS key FROM slice_segments');
      const inUse = new Set(used.map((g) => g.key));
      const touched = new Set(changed.segmentKeys);
      const toRead = [...inUse].filter((key) => touched.has(key) || !heldSegments.has(key));
      const delta: SnapshotDelta = {
        revision: head.revision,
        baseRevision: base.revision,
        slices,
        removedSlices: changed.sliceKeys.filter((key) => !present.has(key) && heldSlices.has(key)),
        segments: await this.readSegments(tx, toRead),
        removedSegments: [...heldSegments].filter((key) => !inUse.has(key)),
      };
      const next = patchSnapshot(base, delta);
      return { definition: { revision: head.revision, slices: [...next.slices].sort(byKey), segments: [...next.segments].sort(byKey) }, hash: head.hash };
    });
  }

  /** Just the revision: the cheap question the periodic resync asks. */
  async revision(): Promise<number> {
    return (await this.history.configurationHead()).revision;
  }

  private async readAll(tx: EntityManager, head: { revision: number; hash: string | null }): Promise<LoadedConfiguration> {
    const slices = await this.readSlices(tx, null);
    const segments = await this.readSegments(tx, null);
    return { definition: { revision: head.revision, slices, segments }, hash: head.hash };
  }

  /**
   * The slices with these keys (all when null), ordered by key. `watched` and `shadowBasisPoints`
   * only when set (docs/outcomes.md): a slice that never set them is served byte for byte as before
   * they existed, and the Unleash-compatible form, built from the decision fields, never sees them.
   */
  private async readSlices(tx: EntityManager, keys: readonly string[] | null): Promise<SliceDefinition[]> {
    if (keys !== null && keys.length === 0) return [];
    const rows: SliceRow[] = await tx.query(
      `SELECT key, state, basis_points, stickiness_attribute, targeting, watched, shadow_basis_points FROM slices
        ${keys === null ? '' : 'WHERE key = ANY($1::text[])'} ORDER BY key COLLATE "C"`,
      keys === null ? [] : [keys],
    );
    return rows.map((s) => ({
      key: s.key,
      state: s.state,
      basisPoints: s.basis_points,
      stickinessAttribute: s.stickiness_attribute,
      targeting: s.targeting,
      ...(s.watched ? { watched: true as const } : {}),
      ...(s.shadow_basis_points !== 0 ? { shadowBasisPoints: s.shadow_basis_points } : {}),
    }));
  }

  /** The segments with these keys (when null: every segment a slice uses), ordered by key. */
  private async readSegments(tx: EntityManager, keys: readonly string[] | null): Promise<SegmentDefinition[]> {
    if (keys !== null && keys.length === 0) return [];
    const rows: { key: string; constraints: Constraint[] }[] = await tx.query(
      `SELECT key, constraints FROM segments
        WHERE ${keys === null ? 'key IN (SELECT segment_key FROM slice_segments)' : 'key = ANY($1::text[])'} ORDER BY key COLLATE "C"`,
      keys === null ? [] : [keys],
    );
    return rows.map((g) => ({ key: g.key, constraints: g.constraints }));
  }
}

function byKey(a: { readonly key: string }, b: { readonly key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
