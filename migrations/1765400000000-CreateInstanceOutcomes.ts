import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-instance figures of watched slices (docs/plans.md, "Reporters"): what each SDK instance
 * reported per minute, so that a plan can cap each instance's share of a step's evidence (the
 * outcome tables are per app: one pod could supply all of an app's figures). Written only for
 * slices marked watched (those under a plan, or by hand), by InstanceEvidenceService on its own
 * timer, pruned after SWITCHYARD_TRAFFIC_RETENTION_DAYS like the other traffic tables; no foreign
 * key to `slices` (the writer keeps only rows of existing slices, and slices are never deleted).
 *
 * One row per slice, minute, app and instance: both paths' calls, failures and latency histograms
 * (log2pct-v1, sparse as in outcome_buckets), the shadow comparisons, and the decisions. How many
 * instances can appear is bounded by the ingest's instance admission (instance-admission.ts).
 */
export class CreateInstanceOutcomes1765400000000 implements MigrationInterface {
  name = 'CreateInstanceOutcomes1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE instance_outcome_buckets (
        slice_key              text NOT NULL,
        bucket_start           timestamptz NOT NULL,
        app_name               text NOT NULL,
        instance_id            text NOT NULL,
        new_calls              bigint NOT NULL CHECK (new_calls >= 0),
        new_failures           bigint NOT NULL CHECK (new_failures >= 0),
        new_latency_buckets    smallint[] NOT NULL,
        new_latency_counts     bigint[] NOT NULL CHECK (cardinality(new_latency_counts) = cardinality(new_latency_buckets)),
        legacy_calls           bigint NOT NULL CHECK (legacy_calls >= 0),
        legacy_failures        bigint NOT NULL CHECK (legacy_failures >= 0),
        legacy_latency_buckets smallint[] NOT NULL,
        legacy_latency_counts  bigint[] NOT NULL CHECK (cardinality(legacy_latency_counts) = cardinality(legacy_latency_buckets)),
        compared               bigint NOT NULL CHECK (compared >= 0),
        mismatches             bigint NOT NULL CHECK (mismatches >= 0),
        new_decisions          bigint NOT NULL CHECK (new_decisions >= 0),
        legacy_decisions       bigint NOT NULL CHECK (legacy_decisions >= 0),
        PRIMARY KEY (slice_key, bucket_start, app_name, instance_id)
      )`);
    await q.query(`CREATE INDEX instance_outcome_buckets_start_idx ON instance_outcome_buckets (bucket_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE instance_outcome_buckets`);
  }
}
