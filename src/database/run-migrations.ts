import type { DataSource } from 'typeorm';

/** Arbitrary constant: the advisory lock that keeps two instances from migrating at once. */
const MIGRATION_LOCK = 7_346_101;

/**
 * Applies pending migrations and returns their names.
 *
 * On a PostgreSQL server it holds a session advisory lock meanwhile, so several instances
 * starting together migrate once and the others wait, then find nothing to do. The embedded
 * engine has one instance and one connection (which the lock's session would occupy), so it
 * runs without.
 */
export async function runMigrations(dataSource: DataSource, opts: { lock: boolean }): Promise<string[]> {
  const apply = async () => (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  if (!opts.lock) return apply();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return await apply();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
