import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/env.js';
import { DataDirectoryInUseError } from './database/data-dir-lock.js';

/** A signal repeated within this long after the first is the same request (see shutdown below). */
const REPEATED_SIGNAL_MS = 1_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const logger = new Logger('Switchyard');
  // Graceful shutdown: stop accepting requests, let in-flight ones finish, close the pool and the
  // embedded database (so nothing is lost), then exit 0. A second signal a moment later exits at
  // once (1). Only a moment later: under `npm start`, a terminal's Ctrl-C reaches npm and this
  // process alike (one process group) and npm forwards it again, so one Ctrl-C arrives twice
  // within milliseconds; taking the copy for "now" would skip closing the embedded database.
  let firstSignalAt: number | null = null;
  const shutdown = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt !== null) {
      if (now - firstSignalAt < REPEATED_SIGNAL_MS) return;
      logger.warn({ msg: 'second signal: exiting without finishing the shutdown', signal });
      process.exit(1);
    }
    firstSignalAt = now;
    logger.log({ msg: 'shutting down', signal });
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ msg: 'unclean shutdown', error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await app.listen(config.port);
  logger.log({
    msg: 'listening',
    port: config.port,
    console: `http://localhost:${config.port}/console/`,
    graphql: `http://localhost:${config.port}/graphql`,
    database: config.databaseUrl === null ? `embedded (${config.dataDir})` : 'postgresql',
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirectoryInUseError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`switchyard failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
