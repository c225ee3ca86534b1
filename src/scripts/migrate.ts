import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/env.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { DataDirectoryInUseError } from '../database/data-dir-lock.js';
import { closeEmbeddedDatabase, openEmbeddedDatabase } from '../database/embedded-database.js';
import { runMigrations } from '../database/run-migrations.js';
import { ENTITIES } from '../entities.js';

/**
 * `npm run migration:run | migration:revert | migration:show`, on the database the service would
 * use: as SWITCHYARD_MIGRATIONS_DATABASE_URL's role when set (the tables' owner), else
 * DATABASE_URL, else the embedded one under SWITCHYARD_DATA_DIR.
 */
const USAGE = 'usage: migrate.js run | revert | show';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'run' && command !== 'revert' && command !== 'show') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const pglite = config.databaseUrl === null ? await openEmbeddedDatabase(config.dataDir, `npm run migration:${command}`) : null;
  const dataSource = await new DataSource(dataSourceOptions(config.migrationsDatabaseUrl ?? config.databaseUrl, pglite, ENTITIES)).initialize();
  try {
    if (command === 'run') {
      const applied = await runMigrations(dataSource, { lock: pglite === null });
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
    } else if (command === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write('reverted the last migration\n');
    } else {
      const pending = await dataSource.showMigrations();
      process.stdout.write(pending ? 'migrations pending\n' : 'all migrations applied\n');
    }
    return 0;
  } finally {
    await dataSource.destroy();
    if (pglite !== null) await closeEmbeddedDatabase(pglite);
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof ConfigError || error instanceof DataDirectoryInUseError ? `${error.message}\n` : `migration failed: ${String((error as Error)?.stack ?? error)}\n`,
    );
    process.exit(1);
  },
);
