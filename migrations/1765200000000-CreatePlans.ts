import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cutover plans (docs/plans.md): one row per plan, at most one not finished per slice (the partial
 * unique index). Steps, gates, approvals and the runner's last look are JSON: they are read and
 * written whole, with the plan, and never queried inside. `version` bumps with every change made
 * through ChangeService (create, start, pause, resume, abort, approve, the runner's advance); the
 * runner's look (`status`, `looked_at`) is an observation written beside it without a bump.
 */
export class CreatePlans1765200000000 implements MigrationInterface {
  name = 'CreatePlans1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE plans (
        id              uuid PRIMARY KEY,
        slice_key       text NOT NULL REFERENCES slices (key),
        phase           text NOT NULL CONSTRAINT plans_phase CHECK (phase IN ('PENDING', 'RUNNING', 'PAUSED', 'ABORTED', 'COMPLETED', 'ROLLED_BACK')),
        steps           jsonb NOT NULL,
        gates           jsonb NOT NULL,
        author          text NOT NULL,
        current_step    integer NOT NULL CONSTRAINT plans_current_step CHECK (current_step >= 0),
        step_started_at timestamptz,
        approvals       jsonb NOT NULL DEFAULT '[]',
        status          jsonb,
        looked_at       timestamptz,
        version         integer NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      )`,
    );
    await q.query(`CREATE UNIQUE INDEX plans_one_open_per_slice ON plans (slice_key) WHERE phase IN ('PENDING', 'RUNNING', 'PAUSED')`);
    await q.query(`CREATE INDEX plans_running ON plans (phase) WHERE phase = 'RUNNING'`);
    await q.query(`CREATE INDEX plans_by_slice ON plans (slice_key, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE plans`);
  }
}
