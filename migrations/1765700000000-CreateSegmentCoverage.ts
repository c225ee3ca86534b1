import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Segment coverage (docs/segment-rollback.md, "Coverage"): on a sample of decisions, SDKs report
 * which of the segments a slice names the subject was in; one row per slice, minute, app and
 * segment sums them. What the console shows next to a segment rollback ("covered about N of the
 * last M decisions"). Written and pruned like the other traffic tables (TrafficRepository,
 * SWITCHYARD_TRAFFIC_RETENTION_DAYS); no foreign keys (the writer keeps only rows of existing
 * slices; a segment may be deleted later, its rows then simply go unread until pruned).
 */
export class CreateSegmentCoverage1765700000000 implements MigrationInterface {
  name = 'CreateSegmentCoverage1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE segment_coverage_buckets (
        slice_key    text NOT NULL,
        bucket_start timestamptz NOT NULL,
        app_name     text NOT NULL,
        segment_key  text NOT NULL,
        sampled      bigint NOT NULL CHECK (sampled >= 0),
        in_segment   bigint NOT NULL CHECK (in_segment >= 0 AND in_segment <= sampled),
        PRIMARY KEY (slice_key, bucket_start, app_name, segment_key)
      )`);
    await q.query(`CREATE INDEX segment_coverage_buckets_start_idx ON segment_coverage_buckets (bucket_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE segment_coverage_buckets`);
  }
}
