import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A plan's history rows (`history(planOf:)`, the console's plan panel): PLAN_* rows carry no slice
 * key (the plan in `after` names it), so without this index the newest-first read of one plan's rows
 * walks back through all history until it has `first` of them, or to the start for a plan with
 * fewer. Partial, like the slice and segment indexes: only plan rows are in it. The predicate is
 * the same text as HistoryRepository.page's, so the planner can use it.
 */
export class IndexPlanHistory1765600000000 implements MigrationInterface {
  name = 'IndexPlanHistory1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX history_plan_idx ON history ((after ->> 'sliceKey'), sequence DESC) WHERE slice_key IS NULL AND action LIKE 'PLAN\\_%'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX history_plan_idx`);
  }
}
