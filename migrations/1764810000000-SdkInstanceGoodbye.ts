import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What tells a follower that is gone from one that is behind (docs/traffic.md, "Who follows"):
 * when an SDK instance said goodbye (a usage report with `"final": true`, sent as its SDK closes),
 * and how often it reports (our SDK's `metricsIntervalMs`, an Unleash SDK's registration
 * `interval`), since an instance not heard from for three of its intervals is gone. Both nullable:
 * rows written before, and instances that never say, get the default interval and no goodbye.
 */
export class SdkInstanceGoodbye1764810000000 implements MigrationInterface {
  name = 'SdkInstanceGoodbye1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sdk_instances ADD COLUMN closed_at timestamptz`);
    await q.query(`ALTER TABLE sdk_instances ADD COLUMN report_interval_ms integer CHECK (report_interval_ms > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sdk_instances DROP COLUMN report_interval_ms`);
    await q.query(`ALTER TABLE sdk_instances DROP COLUMN closed_at`);
  }
}
