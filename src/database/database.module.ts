import { Global, Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { dataSourceOptions } from './data-source-options.js';
import { DatabaseShutdown, EMBEDDED_DATABASE, EmbeddedDatabaseModule, type EmbeddedDatabaseHandle } from './embedded-database.module.js';
import { runMigrations } from './run-migrations.js';

@Global()
@Module({
  imports: [
    EmbeddedDatabaseModule,
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedDatabaseModule],
      inject: [APP_CONFIG, EMBEDDED_DATABASE],
      useFactory: (config: AppConfig, embedded: EmbeddedDatabaseHandle) => ({
        ...dataSourceOptions(config.databaseUrl, embedded.pglite),
        retryAttempts: 5,
        retryDelay: 2_000,
      }),
    }),
  ],
  providers: [DatabaseShutdown],
  exports: [EmbeddedDatabaseModule],
})
export class DatabaseModule implements OnModuleInit {
  private readonly logger = new Logger(DatabaseModule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabaseHandle,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.runMigrations) return;
    const applied =
      this.config.migrationsDatabaseUrl === null
        ? await runMigrations(this.dataSource, { lock: this.embedded.pglite === null })
        : await runMigrationsAs(this.config.migrationsDatabaseUrl);
    if (applied.length > 0) this.logger.log({ msg: 'migrations applied', migrations: applied });
  }
}

/**
 * Migrations over a connection of their own, as the role that owns the tables (least privilege:
 * the service's role owns nothing, so it cannot turn the history triggers off). Closed once done.
 */
async function runMigrationsAs(url: string): Promise<string[]> {
  const dataSource = await new DataSource(dataSourceOptions(url, null)).initialize();
  try {
    return await runMigrations(dataSource, { lock: true });
  } finally {
    await dataSource.destroy();
  }
}
