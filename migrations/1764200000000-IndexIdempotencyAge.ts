import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys are deleted after SWITCHYARD_IDEMPOTENCY_RETENTION_DAYS (IdempotencyRetention):
 * an index by age keeps that hourly delete from scanning the table.
 */
export class IndexIdempotencyAge1764200000000 implements MigrationInterface {
  name = 'IndexIdempotencyAge1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idempotency_keys_created_at`);
  }
}
