import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { DatabaseTimeoutError } from '../common/errors/database-unavailable.js';
import { discardConnection } from './connection-timeouts.js';

/**
 * `dataSource.transaction(work)`, abandoned after `timeoutMs` (null: unbounded, as on the embedded
 * engine, which runs in this process and has a single connection that must not be discarded).
 *
 * Every statement is bounded on its own already (connection-timeouts.ts); this bounds their sum
 * and what runs between them, for transactions that hold a lock others queue behind (every change
 * holds the history append lock). When the bound expires, the transaction's connection is
 * discarded: the statement in flight and every later one fail at once, nothing is committed, and
 * the server rolls back and frees the lock as soon as it sees the connection close (or, if the
 * network says nothing, after `idle_in_transaction_session_timeout`: see DatabaseTimeouts).
 * The caller gets a DatabaseTimeoutError (SERVICE_UNAVAILABLE).
 *
 * The bound starts once a connection is held: waiting for one is bounded by the pool's own
 * connect timeout.
 */
export async function boundedTransaction<T>(dataSource: DataSource, timeoutMs: number | null, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  if (timeoutMs === null) return dataSource.transaction(work);
  const runner = dataSource.createQueryRunner();
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const connection = (await runner.connect()) as pg.PoolClient;
    timer = setTimeout(() => {
      expired = true;
      discardConnection(connection);
    }, timeoutMs);
    return await runner.manager.transaction(work);
  } catch (error) {
    if (expired) throw new DatabaseTimeoutError(`the transaction did not finish within ${timeoutMs} ms; it was abandoned`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
    await runner.release();
  }
}
