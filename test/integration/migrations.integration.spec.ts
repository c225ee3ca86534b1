import { DataSource } from 'typeorm';
import type { PGlite } from '@electric-sql/pglite';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { openEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../utils/test-database.js';

const TABLES = ['api_tokens', 'history', 'idempotency_keys', 'sdk_instances', 'segments', 'slice_segments', 'slices', 'traffic_buckets', 'traffic_followers'];

describe('migrations', () => {
  let database: TestDatabase;
  let pglite: PGlite | null = null;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    pglite = database.url === null ? await openEmbeddedDatabase('memory:') : null;
    dataSource = await new DataSource(dataSourceOptions(database.url, pglite)).initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await pglite?.close();
    await database?.drop();
  });

  async function tables(): Promise<string[]> {
    const rows: { table_name: string }[] = await dataSource.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1",
    );
    return rows.map((r) => r.table_name);
  }

  it('apply, revert and apply again, leaving the same schema', async () => {
    expect(await runMigrations(dataSource, { lock: pglite === null })).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tables()).toEqual(TABLES);
    expect(await dataSource.showMigrations()).toBe(false);

    for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);

    await runMigrations(dataSource, { lock: pglite === null });
    expect(await tables()).toEqual(TABLES);
    // Running again finds nothing to do.
    expect(await runMigrations(dataSource, { lock: pglite === null })).toEqual([]);
  });

  it('installs the append-only trigger on history', async () => {
    const rows: { tgname: string }[] = await dataSource.query(
      "SELECT tgname FROM pg_trigger WHERE tgrelid = 'history'::regclass AND NOT tgisinternal ORDER BY 1",
    );
    expect(rows.map((r) => r.tgname)).toEqual(['history_no_truncate', 'history_no_update_delete']);
  });
});
