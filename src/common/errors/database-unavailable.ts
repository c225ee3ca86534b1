/**
 * Is this error the database being unreachable or not answering in time (as opposed to a bug or
 * bad SQL)? Such errors become SERVICE_UNAVAILABLE: the client may retry.
 */
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
// SQLSTATE classes/codes: 08 connection exception, 53 insufficient resources, 57P01..57P03
// shutdown / cannot connect now, 57P05 idle session timeout, 3D000 database does not exist
// (dropped under us); and the server's own timeouts (connection-timeouts.ts): 57014 a statement
// cancelled by statement_timeout, 25P03 a session ended by idle_in_transaction_session_timeout.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '3D000', '57014', '25P03']);
const UNAVAILABLE_MESSAGES = [
  // node-postgres: the connection closed under a statement ("... unexpectedly"), or opening one
  // took longer than connectionTimeoutMillis ("... due to connection timeout").
  'Connection terminated',
  'connection timeout',
  // pg-pool: no connection became free within connectionTimeoutMillis.
  'timeout exceeded when trying to connect',
  // node-postgres: no answer within query_timeout (a frozen network); the connection is then
  // discarded (connection-timeouts.ts), and what was queued on it fails with the next message.
  'Query read timeout',
  'Client was closed and is not queryable',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'PGlite is closed',
  'PGlite is closing',
  'Driver not Connected',
];

/**
 * A transaction abandoned by the service itself for taking longer than its bound (see
 * src/database/bounded-transaction.ts). Its connection was discarded, so nothing it did was
 * committed, unless the bound expired while the COMMIT itself was unanswered: then, as with any
 * lost answer, only a retry with the same idempotency key tells.
 */
export class DatabaseTimeoutError extends Error {
  override readonly name = 'DatabaseTimeoutError';
}

/**
 * A closed (or crashed) embedded engine: PGlite drops its WASM module on close, and the
 * node-postgres adapter's protocol calls do not check for that first, so what surfaces is a
 * TypeError reading one of the module's exports (`_PostgresSendReadyForQueryIfNecessary`,
 * `_pgl_...`, `_pq_...`) off `undefined`. Matched by those export names only (pg rewrites the
 * stack, so no PGlite frame is left to check), so an ordinary bug reading some other property
 * of undefined is still reported as INTERNAL.
 */
const EMBEDDED_ENGINE_GONE = /^Cannot read properties of undefined \(reading '_(Postgres|pgl_|pq_|IsTransactionBlock)/;

function isEmbeddedEngineGone(e: Error): boolean {
  return e.name === 'TypeError' && EMBEDDED_ENGINE_GONE.test(e.message);
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; isErrorLike(e) && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (/^(08|53)/.test(code) && code.length === 5) return true;
    }
    if (UNAVAILABLE_MESSAGES.some((m) => (e as Error).message.includes(m))) return true;
    if (isEmbeddedEngineGone(e)) return true;
    if (e.name === 'DatabaseTimeoutError') return true;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause ?? emittedError(e);
  }
  return false;
}

/**
 * PGlite's node-postgres adapter, once its engine is gone, emits 'error' for each queued
 * protocol message, some with no listener left; the throw rejects its queue, and later queries
 * on that connection fail with what was thrown. Node throws an Error as it is, but anything it
 * does not recognise as an Error (one from another realm, as under Jest) as ERR_UNHANDLED_ERROR
 * with the original as `context`.
 */
function emittedError(e: Error): unknown {
  return (e as { code?: unknown }).code === 'ERR_UNHANDLED_ERROR' ? (e as { context?: unknown }).context : undefined;
}

/**
 * Not `instanceof Error`: errors made by Node itself (ERR_UNHANDLED_ERROR) or in another realm
 * (a vm context, as under Jest) fail that test, and the walk would stop one link short.
 */
function isErrorLike(e: unknown): e is Error {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}
