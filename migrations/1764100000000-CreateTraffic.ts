import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Traffic seen by the services (docs/traffic.md): decision counts per slice, app, path and minute,
 * the SDK instances that report them, and which instance reported which slice when.
 *
 * None of this is configuration: it is written by TrafficIngestService in batches, outside
 * ChangeService and the history hash chain, and pruned after SWITCHYARD_TRAFFIC_RETENTION_DAYS.
 * No foreign key to `slices`: the writer keeps only counts of existing slices (a join at insert),
 * and a slice is never deleted (ARCHIVED at most), so its counts stay readable.
 */
export class CreateTraffic1764100000000 implements MigrationInterface {
  name = 'CreateTraffic1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per slice, app, path and minute; every report adds to it (upsert count = count + n).
    // The primary key serves the reads (one slice over a time range) and the upsert; the second
    // index serves pruning by age.
    await q.query(`
      CREATE TABLE traffic_buckets (
        slice_key    text NOT NULL,
        app_name     text NOT NULL,
        path         text NOT NULL CHECK (path IN ('NEW', 'LEGACY')),
        bucket_start timestamptz NOT NULL,
        count        bigint NOT NULL CHECK (count >= 0),
        PRIMARY KEY (slice_key, bucket_start, app_name, path)
      )`);
    await q.query(`CREATE INDEX traffic_buckets_start_idx ON traffic_buckets (bucket_start)`);

    // The latest of what each SDK instance said or was served. Identified per protocol: an app
    // may run both SDKs, and their instance ids are chosen independently.
    await q.query(`
      CREATE TABLE sdk_instances (
        protocol       text NOT NULL CHECK (protocol IN ('SWITCHYARD', 'UNLEASH')),
        app_name       text NOT NULL,
        instance_id    text NOT NULL,
        sdk_name       text,
        sdk_version    text,
        revision       bigint CHECK (revision >= 0),
        last_synced_at timestamptz,
        last_seen_at   timestamptz NOT NULL,
        PRIMARY KEY (protocol, app_name, instance_id)
      )`);
    await q.query(`CREATE INDEX sdk_instances_seen_idx ON sdk_instances (last_seen_at)`);

    // When an instance last reported decisions for a slice: what makes it a follower of the slice.
    await q.query(`
      CREATE TABLE traffic_followers (
        slice_key        text NOT NULL,
        protocol         text NOT NULL,
        app_name         text NOT NULL,
        instance_id      text NOT NULL,
        last_reported_at timestamptz NOT NULL,
        PRIMARY KEY (slice_key, protocol, app_name, instance_id)
      )`);
    await q.query(`CREATE INDEX traffic_followers_reported_idx ON traffic_followers (last_reported_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE traffic_followers`);
    await q.query(`DROP TABLE sdk_instances`);
    await q.query(`DROP TABLE traffic_buckets`);
  }
}
