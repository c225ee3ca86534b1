import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/env.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const logger = new Logger('Switchyard');
  // Graceful shutdown: stop accepting requests, let in-flight ones finish, close the pool and the
  // embedded database (so nothing is lost), then exit 0. A second signal exits at once.
  const shutdown = (signal: NodeJS.Signals) => {
    logger.log({ msg: 'shutting down', signal });
    process.once(signal, () => process.exit(1));
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ msg: 'unclean shutdown', error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen(config.port);
  logger.log({
    msg: 'listening',
    port: config.port,
    graphql: `http://localhost:${config.port}/graphql`,
    database: config.databaseUrl === null ? `embedded (${config.dataDir})` : 'postgresql',
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`switchyard failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
