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
import { configurationSinceOf, configurationSinceParams, type ConfigurationSinceRow, configurationSinceSql, HistoryRepository } from '../history/history.repository.js';

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

interface SegmentRow {
  key: string;
  constraints: Constraint[];
}

interface SliceRow {
  key: string;
  state: SliceState;
  basis_points: number;
  stickiness_attribute: string;
  targeting: TargetingDefinition;
  rolled_back_segments: string[];
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
   * when no newer revision has committed. Reads everything instead (`load`) when the history up to
   * `held` is not this database's any more (restored from a backup, failed over to a replica that
   * was behind: the hash at that revision differs), when a row names no key, or when many changed.
   *
   * One statement, so one snapshot of the database and one round trip, with no transaction: the
   * head, what changed, the changed slices, the segments in use and those to read. It follows every
   * change this instance commits, so its round trips are part of each change's cost (a transaction
   * would add three).
   */
  async loadSince(held: LoadedConfiguration): Promise<LoadedConfiguration> {
    const base = held.definition;
    const rows: (ConfigurationSinceRow & { fits: boolean; slices: SliceRow[] | null; in_use: string[] | null; segments: SegmentRow[] | null })[] = await this.dataSource.query(
      `${configurationSinceSql('$1', '$2', '$3')},
       wanted AS (
         SELECT since.*,
                since.revision::bigint > $1::bigint AND NOT coalesce(since.unkeyed, false) AND since.hash_at IS NOT DISTINCT FROM $5::text
                  AND coalesce(cardinality(since.slice_keys), 0) + coalesce(cardinality(since.segment_keys), 0) <= $4::int AS fits
           FROM since)
       SELECT wanted.*,
              (SELECT json_agg(json_build_object('key', s.key, 'state', s.state, 'basis_points', s.basis_points,
                        'stickiness_attribute', s.stickiness_attribute, 'targeting', s.targeting, 'rolled_back_segments', s.rolled_back_segments, 'watched', s.watched,
                        'shadow_basis_points', s.shadow_basis_points) ORDER BY s.key COLLATE "C")
                 FROM slices s WHERE wanted.fits AND s.key = ANY(wanted.slice_keys)) AS slices,
              (SELECT array_agg(DISTINCT ss.segment_key) FROM slice_segments ss WHERE wanted.fits) AS in_use,
              (SELECT json_agg(json_build_object('key', g.key, 'constraints', g.constraints) ORDER BY g.key COLLATE "C")
                 FROM segments g
                WHERE wanted.fits
                  AND g.key IN (SELECT ss.segment_key FROM slice_segments ss)
                  AND (g.key = ANY(wanted.segment_keys)
                       OR g.key IN (SELECT ss.segment_key FROM slice_segments ss WHERE ss.slice_key = ANY(wanted.slice_keys)))) AS segments
         FROM wanted`,
      [...configurationSinceParams(base.revision), MAX_CHANGED_KEYS, held.hash],
    );
    const row = rows[0]!;
    const { head, changes: changed } = configurationSinceOf(row);
    if (head.revision <= base.revision) return held;
    if (!row.fits) return this.load();

    const slices = (row.slices ?? []).map(sliceDefinition);
    const present = new Set(slices.map((s) => s.key));
    const heldSlices = new Set(base.slices.map((s) => s.key));
    const heldSegments = new Set(base.segments.map((g) => g.key));
    const inUse = new Set(row.in_use ?? []);
    const touched = new Set(changed.segmentKeys);
    // Read: the segments in use that changed or that the changed slices use. Those held and not
    // changed stay held's own objects; a segment in use but not held is always one a changed slice
    // started to use (the held snapshot had every segment in use at its revision).
    const delta: SnapshotDelta = {
      revision: head.revision,
      baseRevision: base.revision,
      slices,
      removedSlices: changed.sliceKeys.filter((key) => !present.has(key) && heldSlices.has(key)),
      segments: (row.segments ?? []).filter((g) => touched.has(g.key) || !heldSegments.has(g.key)).map(segmentDefinition),
      removedSegments: [...heldSegments].filter((key) => !inUse.has(key)),
    };
    const next = patchSnapshot(base, delta);
    return { definition: { revision: head.revision, slices: [...next.slices].sort(byKey), segments: [...next.segments].sort(byKey) }, hash: head.hash };
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
      `SELECT key, state, basis_points, stickiness_attribute, targeting, rolled_back_segments, watched, shadow_basis_points FROM slices
        ${keys === null ? '' : 'WHERE key = ANY($1::text[])'} ORDER BY key COLLATE "C"`,
      keys === null ? [] : [keys],
    );
    return rows.map(sliceDefinition);
  }

  /** The segments with these keys (when null: every segment a slice uses), ordered by key. */
  private async readSegments(tx: EntityManager, keys: readonly string[] | null): Promise<SegmentDefinition[]> {
    if (keys !== null && keys.length === 0) return [];
    const rows: SegmentRow[] = await tx.query(
      `SELECT key, constraints FROM segments
        WHERE ${keys === null ? 'key IN (SELECT segment_key FROM slice_segments)' : 'key = ANY($1::text[])'} ORDER BY key COLLATE "C"`,
      keys === null ? [] : [keys],
    );
    return rows.map(segmentDefinition);
  }
}

/** `rolledBackSegments`, `watched` and `shadowBasisPoints` only when set (see readSlices). */
function sliceDefinition(s: SliceRow): SliceDefinition {
  return {
    key: s.key,
    state: s.state,
    basisPoints: s.basis_points,
    stickinessAttribute: s.stickiness_attribute,
    targeting: s.targeting,
    ...(s.rolled_back_segments.length > 0 ? { rolledBackSegments: s.rolled_back_segments } : {}),
    ...(s.watched ? { watched: true as const } : {}),
    ...(s.shadow_basis_points !== 0 ? { shadowBasisPoints: s.shadow_basis_points } : {}),
  };
}

function segmentDefinition(g: SegmentRow): SegmentDefinition {
  return { key: g.key, constraints: g.constraints };
}

function byKey(a: { readonly key: string }, b: { readonly key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
