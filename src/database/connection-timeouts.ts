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
  /**
   * The server cancels a longer statement (`statement_timeout`, SQLSTATE 57014), and ends a
   * session idle inside a transaction this long (`idle_in_transaction_session_timeout`, 25P03):
   * between two statements of a transaction the service waits on nothing but itself, so such a
   * session's client has vanished or been cut off, and the locks it holds must be freed (a
   * change's lock, which every other change, a rollback too, queues behind).
   */
  readonly statementMs: number;
  /** A change's whole transaction (see bounded-transaction.ts). */
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
 * settings sent in the startup message, and a ConnectionWatch over the pool's connections
 * (`onConnect` is pg-pool's hook for each new connection).
 */
export function serverConnectionOptions(timeouts: DatabaseTimeouts) {
  const watch = new ConnectionWatch();
  const onConnect = (client: pg.ClientBase) => watch.adopt(client);
  watchOfHook.set(onConnect, watch);
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.statementMs,
    query_timeout: readTimeoutMs(timeouts),
    onConnect,
  };
}

/**
 * Lets the ConnectionWatch of a pool made with serverConnectionOptions follow which of its
 * connections are checked out (pg-pool's 'acquire' and 'release' events), so that only those idle
 * in the pool are discarded beside a silent one, never one a request holds between two statements.
 * Call once the pool exists (TypeORM makes it when the DataSource initializes); a pool made
 * otherwise is left alone.
 */
export function followCheckouts(pool: pg.Pool): void {
  const hook: unknown = (pool.options as { onConnect?: unknown }).onConnect;
  if (typeof hook === 'function') watchOfHook.get(hook)?.follow(pool);
}

interface Watched {
  /** Statements sent (or queued) and not answered yet. */
  inFlight: number;
  /**
   * In the pool, not checked out. True from the start: a connection is checked out right after it
   * is made, which 'acquire' reports once the pool is followed; the one TypeORM makes (and gives
   * back) while initializing, before anything follows the pool, is idle by then.
   */
  idle: boolean;
  readonly watch: ConnectionWatch;
}

/** Each pool's ConnectionWatch, by the onConnect hook the pool was given (followCheckouts finds it so). */
const watchOfHook = new WeakMap<object, ConnectionWatch>();

/** Each watched connection's state; looked up by discardConnection, which is also handed connections from elsewhere. */
const watched = new WeakMap<pg.ClientBase, Watched>();

/**
 * The connections of one pool, and what becomes of them when a statement goes unanswered.
 *
 * node-postgres gives up on a statement after `query_timeout` ("Query read timeout") but keeps the
 * connection as it is: the statement is still in flight, so the next one (TypeORM's ROLLBACK, or
 * the next request's once the connection is back in the pool) queues behind it and waits out a
 * timeout of its own. Such a connection is half dead: it is discarded at once instead.
 *
 * And an unanswered statement says the network or the server has gone silent: the connections
 * sitting idle in the pool went silent with it, though nothing has told them yet. Handed to the
 * next request (the first rollback after the database is back, say), each would cost that request
 * a timeout of its own. So they are discarded too (see discardConnection); new ones are opened
 * when needed.
 *
 * Only promise-style calls are watched: TypeORM makes no other.
 */
class ConnectionWatch {
  private readonly connections = new Set<pg.ClientBase>();

  adopt(client: pg.ClientBase): void {
    const state: Watched = { inFlight: 0, idle: true, watch: this };
    watched.set(client, state);
    this.connections.add(client);
    client.once('end', () => this.connections.delete(client));
    // Unbound on purpose: the wrapper below calls it on the client it is called on.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
    const query = client.query;
    client.query = function (this: pg.ClientBase, ...args: unknown[]) {
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) {
        state.inFlight++;
        result.then(
          () => state.inFlight--,
          (error: unknown) => {
            if ((error as Error | null)?.message === 'Query read timeout') discardConnection(client);
            state.inFlight--;
          },
        );
      }
      return result;
    } as typeof client.query;
  }

  follow(pool: pg.Pool): void {
    pool.on('acquire', (client) => {
      const state = watched.get(client);
      if (state !== undefined) state.idle = false;
    });
    pool.on('release', (_error, client) => {
      const state = watched.get(client);
      if (state !== undefined) state.idle = true;
    });
  }

  /** Discards every connection idle in the pool (and, to be sure, with nothing in flight and no transaction open). */
  discardIdle(except: pg.ClientBase): void {
    for (const client of this.connections) {
      const state = watched.get(client);
      if (client !== except && state?.idle === true && state.inFlight === 0 && client.getTransactionStatus() === 'I') destroy(client);
    }
  }
}

/**
 * Closes a connection now, whatever it is doing: every statement queued on it fails with
 * "Connection terminated", its owner (TypeORM, or the pool for an idle one) is told through the
 * client's 'error' event, and the pool removes it. The server side ends by the server's own
 * timeouts, or as soon as the network carries the close.
 *
 * When a statement on it was still waiting for an answer (a read timeout, or a transaction past
 * its bound), the connections idle beside it in the same pool are discarded too: see
 * ConnectionWatch.
 */
export function discardConnection(client: pg.ClientBase): void {
  const state = watched.get(client);
  destroy(client);
  if (state !== undefined && state.inFlight > 0) state.watch.discardIdle(client);
}

/**
 * Destroys the socket (pg's own `end()` would first send a goodbye and wait for the server's, which
 * a frozen network never delivers). `connection.stream` is node-postgres' socket (not in its type
 * definitions; unchanged since pg 7); should it ever move, `end()` is the fallback.
 */
function destroy(client: pg.ClientBase): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else void (client as pg.Client).end().catch(() => undefined);
}
