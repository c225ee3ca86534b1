import type { Socket } from 'node:net';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../src/common/errors/database-unavailable.js';
import { type DatabaseTimeouts, followCheckouts, READ_GRACE_MS } from '../../src/database/connection-timeouts.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { ENTITIES } from '../../src/entities.js';
import { connectionPool } from '../../src/database/pool-state.js';
import { TcpProxy } from '../utils/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../utils/test-database.js';

const TIMEOUTS: DatabaseTimeouts = { connectMs: 300, statementMs: 300, transactionMs: 1_000 };

/** node-postgres' socket under a connection (as connection-timeouts.ts reaches it). */
function socketOf(client: unknown): Socket {
  return (client as { connection: { stream: Socket } }).connection.stream;
}

/**
 * The pool's connections to a PostgreSQL server when a statement goes unanswered (a TcpProxy
 * frozen between them): the connection is discarded at once, not returned to the pool half dead;
 * the connections idle in the pool are discarded with it; one a caller holds is left to its
 * holder. PostgreSQL only: the embedded engine has no network.
 */
(process.env.DATABASE_URL?.trim() ? describe : describe.skip)('pool connections and a silent database', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url!);
    proxy = await new TcpProxy(Number(url.port || 5432), url.hostname).start();
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    dataSource = await new DataSource(dataSourceOptions(url.toString(), null, ENTITIES, TIMEOUTS)).initialize();
    pool = connectionPool(dataSource)!;
    followCheckouts(pool);
  });
  afterAll(async () => {
    await proxy?.close();
    await dataSource?.destroy().catch(() => undefined);
    await database?.drop();
  });

  it('a slow statement on a database that answers is cancelled by the server (57014: SERVICE_UNAVAILABLE); its connection stays in use', async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const socket = socketOf(await runner.connect());
      const started = performance.now();
      const error = await runner.query('SELECT pg_sleep(5)').then(
        () => null,
        (e: unknown) => e,
      );
      expect((error as { driverError?: { code?: string } }).driverError?.code).toBe('57014');
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(performance.now() - started).toBeLessThan(TIMEOUTS.statementMs + READ_GRACE_MS);
      expect(await runner.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(socket.destroyed).toBe(false);
    } finally {
      await runner.release();
    }
  });

  it('discards the silent connection and those idle in the pool, never one checked out; fresh ones work once the network carries again', async () => {
    // Five connections idle in the pool, and one held by a caller between two statements.
    await Promise.all(Array.from({ length: 6 }, () => dataSource.query('SELECT pg_sleep(0.05)')));
    const held = dataSource.createQueryRunner();
    const heldSocket = socketOf(await held.connect());
    await held.query('SELECT 1');
    expect({ idle: pool.idleCount, total: pool.totalCount }).toEqual({ idle: 5, total: 6 });

    proxy.freeze();
    const started = performance.now();
    const error = await dataSource.query('SELECT 1').then(
      () => null,
      (e: unknown) => e,
    );
    const waited = performance.now() - started;
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(TIMEOUTS.statementMs + READ_GRACE_MS - 50);
    expect(waited).toBeLessThan(TIMEOUTS.statementMs + READ_GRACE_MS + 500);

    // The silent one and the five idle ones are gone from the pool; the held one is untouched.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect({ idle: pool.idleCount, total: pool.totalCount }).toEqual({ idle: 0, total: 1 });
    expect(heldSocket.destroyed).toBe(false);

    proxy.thaw();
    const after = performance.now();
    expect(await dataSource.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    // At once: a fresh connection, not a frozen one from the pool.
    expect(performance.now() - after).toBeLessThan(TIMEOUTS.connectMs);
    // The held connection was lost to the freeze too: its holder finds out on its next statement.
    const late = await held.query('SELECT 3').then(
      () => null,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(late)).toBe(true);
    await held.release();
  });
});
