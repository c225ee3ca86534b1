import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** The connection pool behind the DataSource, as node-postgres counts it. */
export interface PoolState {
  /** Connections open (in use or idle). */
  readonly total: number;
  readonly idle: number;
  /** Queries queued for a connection because every one is in use. */
  readonly waiting: number;
  /** The most connections the pool opens. */
  readonly max: number;
}

/**
 * Reads the pool TypeORM's PostgresDriver keeps in `master` (a node-postgres `Pool`, created in
 * `PostgresDriver.createPool` with `max` = `poolSize`; there is no replication here, so no
 * `slaves`). On the embedded engine it is the same kind of pool, over PGlite's adapter, with one
 * connection (see data-source-options.ts). Null while the DataSource is not connected.
 *
 * TypeORM types `master` as `any`: if a TypeORM upgrade moves it, this returns null (the metrics
 * disappear) rather than failing a scrape.
 */
export function poolState(dataSource: DataSource): PoolState | null {
  const pool = connectionPool(dataSource);
  if (pool === null) return null;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options?.max ?? 0 };
}

/** The node-postgres pool behind the DataSource (see poolState), or null. */
export function connectionPool(dataSource: DataSource): Pool | null {
  if (!dataSource.isInitialized) return null;
  const pool = (dataSource.driver as PostgresDriver).master as Pool | undefined;
  if (pool === undefined || pool === null || typeof pool.totalCount !== 'number') return null;
  return pool;
}
