import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Constraint, SegmentDefinition, SliceDefinition, SliceState, SnapshotDefinition, TargetingDefinition } from '@switchyard/client-sdk/core';
import { DataSource } from 'typeorm';
import { HistoryRepository } from '../history/history.repository.js';

/** Reads the whole evaluable configuration. */
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
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const revision = Number(await this.history.configurationRevision(tx));
      const slices: { key: string; state: SliceState; basis_points: number; stickiness_attribute: string; targeting: TargetingDefinition }[] =
        await tx.query('SELECT key, state, basis_points, stickiness_attribute, targeting FROM slices ORDER BY key');
      const segments: { key: string; constraints: Constraint[] }[] = await tx.query(
        'SELECT key, constraints FROM segments WHERE key IN (SELECT segment_key FROM slice_segments) ORDER BY key',
      );
      return {
        revision,
        slices: slices.map(
          (s): SliceDefinition => ({
            key: s.key,
            state: s.state,
            basisPoints: s.basis_points,
            stickinessAttribute: s.stickiness_attribute,
            targeting: s.targeting,
          }),
        ),
        segments: segments.map((g): SegmentDefinition => ({ key: g.key, constraints: g.constraints })),
      };
    });
  }

  /** Just the revision: the cheap question the periodic resync asks. */
  async revision(): Promise<number> {
    return Number(await this.history.configurationRevision());
  }
}
