import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { PGlite } from '@electric-sql/pglite';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { closeEmbeddedDatabase, openEmbeddedDatabase } from './embedded-database.js';

/** The embedded engine when there is one; `pglite` is null on a PostgreSQL server. */
export const EMBEDDED_DATABASE = Symbol('EMBEDDED_DATABASE');
export interface EmbeddedDatabaseHandle {
  readonly pglite: PGlite | null;
}

@Global()
@Module({
  providers: [
    {
      provide: EMBEDDED_DATABASE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<EmbeddedDatabaseHandle> => ({
        pglite: config.databaseUrl === null ? await openEmbeddedDatabase(config.dataDir, 'the switchyard service') : null,
      }),
    },
  ],
  exports: [EMBEDDED_DATABASE],
})
export class EmbeddedDatabaseModule {}

/**
 * Closes the pool, then the embedded engine, so that every write reaches its data directory
 * before the process exits. Lives beside the DataSource so both are at hand.
 */
export class DatabaseShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseShutdown.name);

  constructor(
    @Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabaseHandle,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    const pglite = this.embedded.pglite;
    if (pglite === null) return;
    const wasOpen = !pglite.closed;
    await closeEmbeddedDatabase(pglite);
    if (wasOpen) this.logger.log('embedded database closed');
  }
}
