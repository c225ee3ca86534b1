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
 * Above this many changed slices, a read since a revision reads everything instead: one query for
 * all rows beats a long key list (a rollbackAll of hundreds of slices, an instance far behind).
 */
const MAX_CHANGED_KEYS = 256;

interface SliceRow {
  key: string;
  state: SliceState;
  basis_points: number;
  stickiness_attribute: string;
  targeting: TargetingDefinition;
}

/**
 * Reads the evaluable configuration: whole (`load`), or as what changed since a snapshot already
 * held (`loadSince`), which costs the same for 20 slices or 20,000. Both return slices and
 * segments ordered by key in code-point order (COLLATE "C", the order of JavaScript's `<`), so
 * both reads of one revision are equal whatever the database's collation.
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
  load(): Promise<SnapshotDefinition> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => this.readAll(tx, Number(await this.history.configurationRevision(tx))));
  }

  /**
   * The configuration now, read as a change to `held`: only the slices and segments that history
   * names after `held.revision` are read (every change appends history naming what it changed, in
   * the transaction that changes it, in sequence order: see ChangeService), and the segments in
   * use are checked by key. Unchanged definitions are `held`'s own objects. Returns `held` itself
   * when no newer revision has committed. One REPEATABLE READ transaction, like `load`.
   */
  loadSince(held: SnapshotDefinition): Promise<SnapshotDefinition> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const revision = Number(await this.history.configurationRevision(tx));
      if (revision <= held.revision) return held;
      const changed = await this.history.keysChangedAfter(tx, held.revision);
      if (changed.sliceKeys.length + changed.segmentKeys.length > MAX_CHANGED_KEYS) return this.readAll(tx, revision);

      const slices = await this.readSlices(tx, changed.sliceKeys);
      const present = new Set(slices.map((s) => s.key));
      const heldSlices = new Set(held.slices.map((s) => s.key));
      const heldSegments = held.segments.map((g) => g.key);
      // The segments in use now, with constraints only for those changed or not held yet.
      const used: { key: string; constraints: Constraint[] | null }[] = await tx.query(
        `SELECT s.key, CASE WHEN s.key = ANY($1::text[]) OR s.key <> ALL($2::text[]) THEN s.constraints END AS constraints
           FROM segments s WHERE s.key IN (SELECT segment_key FROM slice_segments)`,
        [changed.segmentKeys, heldSegments],
      );
      const inUse = new Set(used.map((g) => g.key));
      const delta: SnapshotDelta = {
        revision,
        baseRevision: held.revision,
        slices,
        removedSlices: changed.sliceKeys.filter((key) => !present.has(key) && heldSlices.has(key)),
        segments: used.flatMap((g) => (g.constraints === null ? [] : [{ key: g.key, constraints: g.constraints }])),
        removedSegments: heldSegments.filter((key) => !inUse.has(key)),
      };
      const next = patchSnapshot(held, delta);
      return { revision, slices: [...next.slices].sort(byKey), segments: [...next.segments].sort(byKey) };
    });
  }

  /** Just the revision: the cheap question the periodic resync asks. */
  async revision(): Promise<number> {
    return Number(await this.history.configurationRevision());
  }

  private async readAll(tx: EntityManager, revision: number): Promise<SnapshotDefinition> {
    const slices = await this.readSlices(tx, null);
    const segments: { key: string; constraints: Constraint[] }[] = await tx.query(
      'SELECT key, constraints FROM segments WHERE key IN (SELECT segment_key FROM slice_segments) ORDER BY key COLLATE "C"',
    );
    return { revision, slices, segments: segments.map((g): SegmentDefinition => ({ key: g.key, constraints: g.constraints })) };
  }

  /** The slices with these keys (all when null), ordered by key. */
  private async readSlices(tx: EntityManager, keys: readonly string[] | null): Promise<SliceDefinition[]> {
    const columns = 'SELECT key, state, basis_points, stickiness_attribute, targeting FROM slices';
    const rows: SliceRow[] =
      keys === null
        ? await tx.query(`${columns} ORDER BY key COLLATE "C"`)
        : keys.length === 0
          ? []
          : await tx.query(`${columns} WHERE key = ANY($1::text[]) ORDER BY key COLLATE "C"`, [keys]);
    return rows.map((s) => ({
      key: s.key,
      state: s.state,
      basisPoints: s.basis_points,
      stickinessAttribute: s.stickiness_attribute,
      targeting: s.targeting,
    }));
  }
}

function byKey(a: { readonly key: string }, b: { readonly key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
