import { QueryFailedError } from 'typeorm';
import { DatabaseTimeoutError, isDatabaseUnavailable } from './database-unavailable.js';
import { toPublicError } from './error-mapper.js';

/** A driver error as node-postgres makes them: a message, and a SQLSTATE for the server's. */
function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** As TypeORM hands it over: the driver's error inside a QueryFailedError. */
function failed(driverError: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], driverError);
}

describe('isDatabaseUnavailable: what becomes SERVICE_UNAVAILABLE', () => {
  it.each([
    ['a statement unanswered within query_timeout (a frozen network)', pgError('Query read timeout')],
    ['no pooled connection free within connectionTimeoutMillis', pgError('timeout exceeded when trying to connect')],
    ['a new connection not opened within connectionTimeoutMillis', pgError('Connection terminated due to connection timeout')],
    ['the connection closed under a statement (discarded after a timeout)', pgError('Connection terminated unexpectedly')],
    ['a statement on a connection already discarded', pgError('Client was closed and is not queryable')],
    ['statement_timeout (57014)', pgError('canceling statement due to statement timeout', '57014')],
    ['idle_in_transaction_session_timeout (25P03)', pgError('terminating connection due to idle-in-transaction timeout', '25P03')],
    ['idle_session_timeout (57P05)', pgError('terminating connection due to idle-session timeout', '57P05')],
    ['a connection refused', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a transaction abandoned by its bound', new DatabaseTimeoutError('the transaction did not finish within 5000 ms')],
  ])('%s, raw or inside a QueryFailedError', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(failed(error))).toBe(true);
    expect(toPublicError(failed(error))).toMatchObject({ category: 'SERVICE_UNAVAILABLE', code: 'DATABASE_UNAVAILABLE', unexpected: false });
  });

  it.each([
    ['a unique violation (23505)', pgError('duplicate key value violates unique constraint', '23505')],
    ['a syntax error (42601)', pgError('syntax error at or near "SELEC"', '42601')],
    ['an ordinary bug', new TypeError("Cannot read properties of undefined (reading 'key')")],
  ])('not %s: that stays INTERNAL', (_, error) => {
    expect(isDatabaseUnavailable(failed(error))).toBe(false);
    expect(toPublicError(failed(error))).toMatchObject({ category: 'INTERNAL_SERVER_ERROR', unexpected: true });
  });
});
