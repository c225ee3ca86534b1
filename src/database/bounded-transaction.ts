import type pg from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
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
export async function boundedTransaction<T>(
  dataSource: DataSource,
  timeoutMs: number | null,
  work: (tx: EntityManager, opened: OpenedRows) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const { opening, read } = options;
  if (timeoutMs === null) {
    return dataSource.transaction(async (tx) => {
      if (opening !== undefined) await tx.query(opening);
      return work(tx, read === undefined ? [] : await tx.query(read));
    });
  }
  const runner = dataSource.createQueryRunner();
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const connection = (await runner.connect()) as pg.PoolClient;
    timer = setTimeout(() => {
      expired = true;
      discardConnection(connection);
    }, timeoutMs);
    return opening === undefined && read === undefined
      ? await runner.manager.transaction((tx) => work(tx, []))
      : await openedTransaction(runner, connection, [opening, read], work);
  } catch (error) {
    if (expired) throw new DatabaseTimeoutError(`the transaction did not finish within ${timeoutMs} ms; it was abandoned`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
    await runner.release();
  }
}

export interface TransactionOptions {
  /**
   * A statement without parameters that the transaction starts with (the append lock), sent in
   * the same round trip as START TRANSACTION on a PostgreSQL server (two statements in one simple
   * query: each still takes its own snapshot, so what the work reads after a lock is what the
   * lock's previous holder committed). On the embedded engine it is its own statement.
   */
  readonly opening?: string;
  /**
   * A SELECT without parameters run right after `opening` (so under its lock), in the same round
   * trip on a PostgreSQL server; its rows are handed to the work. On the embedded engine it is its
   * own statement.
   */
  readonly read?: string;
}

/** The rows of TransactionOptions.read (none without one). */
export type OpenedRows = readonly Record<string, unknown>[];

/**
 * `runner.manager.transaction(work)` with `opening` and `read` in START TRANSACTION's round trip.
 * TypeORM starts a transaction with a statement of its own, so the runner is told that one is
 * active (as its startTransaction would) and then committed or rolled back by TypeORM itself. Each
 * round trip costs a loopback write that the service's CPU profile shows as its largest item, and
 * holds the append lock a little longer: a change's transaction made six, now five (the lock and the
 * head go with START).
 */
async function openedTransaction<T>(
  runner: QueryRunner,
  connection: pg.PoolClient,
  [opening, read]: [string | undefined, string | undefined],
  work: (tx: EntityManager, opened: OpenedRows) => Promise<T>,
): Promise<T> {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  if (state.isTransactionActive) throw new Error('boundedTransaction: the runner is already in a transaction');
  state.isTransactionActive = true;
  state.transactionDepth = 1;
  try {
    // The client itself: TypeORM's query() keeps only a single statement's rows. Several
    // statements in one simple query answer one result each, in order.
    const statements = ['START TRANSACTION', ...(opening === undefined ? [] : [opening]), ...(read === undefined ? [] : [read])];
    const results = (await connection.query(statements.join('; '))) as unknown as pg.QueryResult[];
    const result = await work(runner.manager, read === undefined ? [] : (results[results.length - 1]!.rows as OpenedRows));
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive && !runner.isReleased) {
      try {
        await runner.rollbackTransaction();
      } catch {
        // The connection is gone (discarded on the timeout, or broken): the server rolls back.
      }
    }
    throw error;
  }
}
