import type { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import type { EventEmitter } from 'node:events';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { type DatabaseTimeouts, serverConnectionOptions } from './connection-timeouts.js';
import { ENTITIES } from './entities.js';

/**
 * TypeORM options for either engine. Same entities, same migrations, same SQL.
 *
 * The embedded engine is reached through PGlite's own node-postgres adapter on a pool of one
 * connection: PGlite has a single session, and one pooled connection is what serializes
 * transactions correctly (a driver that multiplexes connections onto that session would mix
 * transactions).
 *
 * On a server, `timeouts` bound every wait on the database (see connection-timeouts.ts); without
 * them (migrations, which may rightly run long) only the driver's defaults apply.
 */
export function dataSourceOptions(databaseUrl: string | null, embedded: PGlite | null, timeouts?: DatabaseTimeouts): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    // Schema changes only through migrations, run explicitly (see run-migrations.ts).
    synchronize: false,
    migrationsRun: false,
  };
  if (databaseUrl !== null) {
    return {
      ...common,
      url: databaseUrl,
      poolSize: 10,
      extra: {
        ...(timeouts === undefined ? {} : serverConnectionOptions(timeouts)),
        application_name: 'switchyard',
      },
    };
  }
  if (embedded === null) throw new Error('embedded database required when DATABASE_URL is unset');
  const pgConfig = createPgConfig(embedded);
  keepErrorsHeard(pgConfig.connection);
  return { ...common, poolSize: 1, extra: { ...pgConfig, max: 1 } };
}

/**
 * PGlite's adapter shares one connection object among all pool clients, and a client's `end()`
 * removes every listener from it. If the engine fails mid-query, the rest of that query's
 * protocol messages are then emitted as 'error' with nobody listening, and an unheard 'error'
 * throws: under `npm start` that ends the process. The failed query already reports the error to
 * its caller (it becomes SERVICE_UNAVAILABLE), so an 'error' nobody listens to is dropped here.
 */
function keepErrorsHeard(connection: EventEmitter): void {
  const emit = connection.emit.bind(connection);
  connection.emit = (event: string | symbol, ...args: unknown[]): boolean =>
    event === 'error' && connection.listenerCount('error') === 0 ? false : emit(event, ...args);
}
