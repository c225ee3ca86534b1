import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The segments an incident responder rolled back on a slice (`rollbackSegment`,
 * docs/segment-rollback.md), kept apart from `targeting` so that `resumeSegment` restores exactly
 * what the targeting decided. Sorted keys; empty for every existing slice, which is what history
 * rows written before this migration mean by leaving the field out (SliceRecord omits it when
 * empty, so those rows, their hashes and the snapshot stay byte for byte as they were). The
 * segments are also linked in slice_segments (kept by SlicesRepository), which refuses their
 * deletion while rolled back.
 */
export class SliceRolledBackSegments1765500000000 implements MigrationInterface {
  name = 'SliceRolledBackSegments1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE slices ADD COLUMN rolled_back_segments text[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE slices DROP COLUMN rolled_back_segments`);
  }
}
