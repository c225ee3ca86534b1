import { type DynamicModule, Global, Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { databaseTimeouts, followCheckouts } from './connection-timeouts.js';
import { type DatabaseEntities, dataSourceOptions } from './data-source-options.js';
import { DatabaseShutdown, EMBEDDED_DATABASE, EmbeddedDatabaseModule, type EmbeddedDatabaseHandle } from './embedded-database.module.js';
import { connectionPool } from './pool-state.js';
import { runMigrations } from './run-migrations.js';

const DATABASE_ENTITIES = Symbol('DATABASE_ENTITIES');

@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  /** `entities`: the application's (src/entities.ts), handed in by the app's wiring: database/ imports no feature. */
  static forRoot(entities: DatabaseEntities): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        EmbeddedDatabaseModule,
        TypeOrmModule.forRootAsync({
          imports: [EmbeddedDatabaseModule],
          inject: [APP_CONFIG, EMBEDDED_DATABASE],
          useFactory: (config: AppConfig, embedded: EmbeddedDatabaseHandle) => ({
            ...dataSourceOptions(config.databaseUrl, embedded.pglite, entities, databaseTimeouts(config)),
            retryAttempts: 5,
            retryDelay: 2_000,
          }),
        }),
      ],
      providers: [DatabaseShutdown, { provide: DATABASE_ENTITIES, useValue: entities }],
      exports: [EmbeddedDatabaseModule],
    };
  }

  private readonly logger = new Logger(DatabaseModule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabaseHandle,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DATABASE_ENTITIES) private readonly entities: DatabaseEntities,
  ) {}

  async onModuleInit(): Promise<void> {
    const pool = this.embedded.pglite === null ? connectionPool(this.dataSource) : null;
    if (pool !== null) followCheckouts(pool);
    if (!this.config.runMigrations) return;
    // On a server, migrations run on connections of their own: as the owner role when one is
    // configured (least privilege), and always without the request timeouts, since a migration may
    // rightly run longer than any request should, and an instance starting while another migrates
    // waits for it on the migration lock.
    const serverUrl = this.config.migrationsDatabaseUrl ?? this.config.databaseUrl;
    const applied = this.embedded.pglite === null && serverUrl !== null ? await runMigrationsAs(serverUrl, this.entities) : await runMigrations(this.dataSource, { lock: false });
    if (applied.length > 0) this.logger.log({ msg: 'migrations applied', migrations: applied });
  }
}

/**
 * Migrations over a connection of their own (closed once done), without the request timeouts;
 * as the role that owns the tables when SWITCHYARD_MIGRATIONS_DATABASE_URL names one (least
 * privilege: the service's role owns nothing, so it cannot turn the history triggers off).
 */
async function runMigrationsAs(url: string, entities: DatabaseEntities): Promise<string[]> {
  const dataSource = await new DataSource(dataSourceOptions(url, null, entities)).initialize();
  try {
    return await runMigrations(dataSource, { lock: true });
  } finally {
    await dataSource.destroy();
  }
}
