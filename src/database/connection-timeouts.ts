import type pg from 'pg';
import type { AppConfig } from '../config/env.js';

/**
 * How long the service waits on a PostgreSQL server, so that a database that stops answering
 * (a frozen network drops packets: nothing is refused, nothing is closed) costs a request a few
 * seconds and a SERVICE_UNAVAILABLE, never a hang. Not used on the embedded engine (it runs in
 * this process: it cannot be cut off from it) nor for migrations (see database.module.ts).
 */
export interface DatabaseTimeouts {
  /** Opening a connection, or waiting for a free one in the pool. */
  readonly connectMs: number;
  /** The server cancels a longer statement (`statement_timeout`, SQLSTATE 57014). */
  readonly statementMs: number;
  /**
   * A change's whole transaction (see bounded-transaction.ts); the server ends a session idle
   * inside a transaction this long (`idle_in_transaction_session_timeout`, 25P03), which frees
   * the locks of a client that vanished mid-transaction.
   */
  readonly transactionMs: number;
}

/**
 * How much longer than the statement timeout the client waits for an answer before it gives the
 * connection up. A database that answers cancels a slow statement itself (the connection stays
 * usable); only one that says nothing at all, a frozen one, is left to the client to notice.
 */
export const READ_GRACE_MS = 1_000;

export function databaseTimeouts(config: AppConfig): DatabaseTimeouts {
  return {
    connectMs: config.databaseConnectTimeoutMs,
    statementMs: config.databaseStatementTimeoutMs,
    transactionMs: config.databaseTransactionTimeoutMs,
  };
}

/** The longest a single statement waits for an answer (client side). */
export function readTimeoutMs(timeouts: DatabaseTimeouts): number {
  return timeouts.statementMs + READ_GRACE_MS;
}

/**
 * node-postgres options for connections to the server: the timeouts above, the server's session
 * settings sent in the startup message, and every pooled connection discarded when one of its
 * statements went unanswered (`onConnect` is pg-pool's hook for each new connection).
 */
export function serverConnectionOptions(timeouts: DatabaseTimeouts) {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.transactionMs,
    query_timeout: readTimeoutMs(timeouts),
    onConnect: discardOnReadTimeout,
  };
}

/**
 * node-postgres gives up on a statement after `query_timeout` ("Query read timeout") but keeps the
 * connection as it is: the statement is still in flight, so the next one (TypeORM's ROLLBACK, or
 * the next request's query once the connection is back in the pool) queues behind it and waits
 * out a timeout of its own. Such a connection is half dead: it is closed at once instead, which
 * fails whatever is queued on it immediately and makes the pool drop it. The server side ends by
 * the server's own timeouts, or as soon as the network carries the close.
 *
 * Only promise-style calls are watched: TypeORM makes no other.
 */
function discardOnReadTimeout(client: pg.ClientBase): void {
  const query = client.query;
  client.query = function (this: pg.ClientBase, ...args: unknown[]) {
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error | null)?.message === 'Query read timeout') discardConnection(client);
      });
    }
    return result;
  } as typeof client.query;
}

/**
 * Closes a connection now, whatever it is doing: its socket is destroyed (pg's own `end()` would
 * first send a goodbye and wait for the server's, which a frozen network never delivers). Every
 * statement queued on it fails with "Connection terminated", its owner (TypeORM) is told through
 * the client's 'error' event, and the pool removes it.
 *
 * `connection.stream` is node-postgres' socket (not in its type definitions; unchanged since pg 7);
 * should it ever move, `end()` is the fallback.
 */
export function discardConnection(client: pg.ClientBase): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else void (client as pg.Client).end().catch(() => undefined);
}
