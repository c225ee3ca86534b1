import type { PGlite } from '@electric-sql/pglite';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { type DatabaseTimeouts, serverConnectionOptions } from './connection-timeouts.js';
import { pgliteClientClass } from './pglite-connection.js';

/** Every entity class the DataSource maps (src/entities.ts lists the application's). */
export type DatabaseEntities = NonNullable<DataSourceOptions['entities']>;

/**
 * TypeORM options for either engine. Same entities, same migrations, same SQL. `entities` is the
 * application's list (src/entities.ts), passed in so that database/ imports no feature.
 *
 * The embedded engine is reached through node-postgres with a connection of our own to PGlite
 * (pglite-connection.ts says why not PGlite's adapter) on a pool of one connection: PGlite has a
 * single session, and one pooled connection is what serializes transactions correctly (a driver that multiplexes connections onto that session would mix
 * transactions).
 *
 * On a server, `timeouts` bound every wait on the database (see connection-timeouts.ts); without
 * them (migrations, which may rightly run long) only the driver's defaults apply.
 */
export function dataSourceOptions(databaseUrl: string | null, embedded: PGlite | null, entities: DatabaseEntities, timeouts?: DatabaseTimeouts): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities,
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
  return { ...common, poolSize: 1, extra: { Client: pgliteClientClass(embedded), max: 1 } };
}
