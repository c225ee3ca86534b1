import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Where a test file's service keeps its data.
 *
 * With DATABASE_URL set (CI's second pass), each test file gets a scratch database of its own on
 * that PostgreSQL server, created here and dropped when the file is done; with none, an
 * in-memory embedded engine (PGlite). Either way every file starts empty.
 */
export interface TestDatabase {
  readonly engine: 'postgres' | 'pglite';
  /** The scratch database's URL, or null for the embedded engine. */
  readonly url: string | null;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL?.trim();
  if (!serverUrl) return { engine: 'pglite', url: null, drop: async () => {} };

  const name = `switchyard_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    engine: 'postgres',
    url: url.toString(),
    drop: async () => {
      if (!name.includes('test')) throw new Error(`refusing to drop ${name}: not a test database`);
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
