import { DataSource } from 'typeorm';
import { EMBEDDED_DATABASE, type EmbeddedDatabaseHandle } from '../../src/database/embedded-database.module.js';
import type { TestApp } from './create-test-app.js';

/**
 * Takes the database away from under a running service: on PostgreSQL, drops the test's scratch
 * database from another connection (terminating the service's sessions); on the embedded engine,
 * closes PGlite. `t.close()` copes with either afterwards.
 */
export async function takeDatabaseAway(t: TestApp): Promise<void> {
  if (t.database.engine === 'postgres') {
    const name = new URL(t.database.url!).pathname.slice(1);
    if (!/^switchyard_test_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
    const server = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
    await server.initialize();
    try {
      await server.query(`DROP DATABASE ${name} WITH (FORCE)`);
    } finally {
      await server.destroy();
    }
  } else {
    await t.app.get<EmbeddedDatabaseHandle>(EMBEDDED_DATABASE).pglite!.close();
  }
}
