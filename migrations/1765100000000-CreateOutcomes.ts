import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outcomes of both paths and shadow comparisons (docs/outcomes.md), beside the traffic tables and
 * like them: written in batches by TrafficIngestService (upserts that add), outside ChangeService
 * and the history chain, pruned after SWITCHYARD_TRAFFIC_RETENTION_DAYS, no foreign key to
 * `slices` (the writer keeps only rows of existing slices, and slices are never deleted).
 *
 * The bucket tables' primary keys lead with (slice_key, bucket_start): the reads are one slice
 * over a time range; the second index serves pruning by age. Samples are read per slice, newest
 * first, and pruned by when they were received.
 */
export class CreateOutcomes1765100000000 implements MigrationInterface {
  name = 'CreateOutcomes1765100000000';

  async up(q: QueryRunner): Promise<void> {
    // Calls, failures and the latency histogram per slice, path, app and minute. The histogram is
    // sparse, as it travels: log2pct-v1 buckets in increasing order and their counts, side by side;
    // a report merges into it by adding counts bucket by bucket (exact, whatever the number of
    // instances). One row per path rather than one per bucket: a path fills some 40 buckets, and
    // 40 times the rows made a once-a-second write of 50 slices cost 0.4 to 0.9 s.
    await q.query(`
      CREATE TABLE outcome_buckets (
        slice_key       text NOT NULL,
        app_name        text NOT NULL,
        path            text NOT NULL CHECK (path IN ('NEW', 'LEGACY')),
        bucket_start    timestamptz NOT NULL,
        calls           bigint NOT NULL CHECK (calls >= 0),
        failures        bigint NOT NULL CHECK (failures >= 0),
        latency_buckets smallint[] NOT NULL,
        latency_counts  bigint[] NOT NULL CHECK (cardinality(latency_counts) = cardinality(latency_buckets)),
        PRIMARY KEY (slice_key, bucket_start, app_name, path)
      )`);
    await q.query(`CREATE INDEX outcome_buckets_start_idx ON outcome_buckets (bucket_start)`);

    // Shadow comparisons per slice, app and minute.
    await q.query(`
      CREATE TABLE comparison_buckets (
        slice_key      text NOT NULL,
        app_name       text NOT NULL,
        bucket_start   timestamptz NOT NULL,
        compared       bigint NOT NULL CHECK (compared >= 0),
        mismatches     bigint NOT NULL CHECK (mismatches >= 0),
        other_failures bigint NOT NULL CHECK (other_failures >= 0),
        timeouts       bigint NOT NULL CHECK (timeouts >= 0),
        PRIMARY KEY (slice_key, bucket_start, app_name)
      )`);
    await q.query(`CREATE INDEX comparison_buckets_start_idx ON comparison_buckets (bucket_start)`);

    // The newest mismatch samples of each slice (the writer trims to 50 per slice). `at` is the
    // SDK's RFC 3339 text as sent (its clock may say any year); `received_at` is ours.
    await q.query(`
      CREATE TABLE mismatch_samples (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        slice_key   text NOT NULL,
        app_name    text NOT NULL,
        received_at timestamptz NOT NULL,
        at          text NOT NULL,
        served      text NOT NULL CHECK (served IN ('NEW', 'LEGACY')),
        subject     text NOT NULL,
        diff        text NOT NULL
      )`);
    await q.query(`CREATE INDEX mismatch_samples_slice_idx ON mismatch_samples (slice_key, received_at DESC, id DESC)`);
    await q.query(`CREATE INDEX mismatch_samples_received_idx ON mismatch_samples (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mismatch_samples`);
    await q.query(`DROP TABLE comparison_buckets`);
    await q.query(`DROP TABLE outcome_buckets`);
  }
}
