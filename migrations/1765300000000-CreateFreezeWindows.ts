import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Freeze windows (docs/freeze-windows.md): spans of time, one-off or recurring in a named zone,
 * during which exposure cannot be raised without an admin's override. The schedule is the pure
 * module's JSON (src/freeze/freeze-schedule.ts), validated by the service; the checks here keep
 * what no valid window can be out of the table. Changes are history rows like any other.
 */
export class CreateFreezeWindows1765300000000 implements MigrationInterface {
  name = 'CreateFreezeWindows1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE freeze_windows (
         key text PRIMARY KEY CONSTRAINT freeze_windows_key_length CHECK (char_length(key) BETWEEN 1 AND 128),
         description text NOT NULL,
         time_zone text NOT NULL CONSTRAINT freeze_windows_time_zone_length CHECK (char_length(time_zone) BETWEEN 1 AND 64),
         schedule jsonb NOT NULL CONSTRAINT freeze_windows_schedule_kind CHECK (schedule->>'kind' IN ('ONE_OFF', 'RECURRING')),
         tag text,
         version integer NOT NULL CONSTRAINT freeze_windows_version_positive CHECK (version >= 1),
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL
       )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE freeze_windows`);
  }
}
