import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { databaseTimeouts } from '../database/connection-timeouts.js';
import { EMBEDDED_DATABASE, type EmbeddedDatabaseHandle } from '../database/embedded-database.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { HistoryModule } from '../history/history.module.js';
import { CHANGE_FEED, type ChangeFeed } from './change-feed.js';
import { DeliveryHttpHandler } from './delivery-http.handler.js';
import { EmbeddedChangeFeed } from './embedded-change-feed.js';
import { PostgresChangeFeed } from './postgres-change-feed.js';
import { SnapshotRepository } from './snapshot.repository.js';
import { SnapshotService } from './snapshot.service.js';
import { StreamHub } from './stream-hub.service.js';

/** Live delivery of the evaluable configuration to SDKs: snapshot, stream, change feed. */
@Module({
  imports: [HistoryModule, ChangesModule, AuthModule],
  providers: [
    SnapshotRepository,
    SnapshotService,
    StreamHub,
    DeliveryHttpHandler,
    {
      provide: CHANGE_FEED,
      inject: [APP_CONFIG, EMBEDDED_DATABASE],
      useFactory: (config: AppConfig, embedded: EmbeddedDatabaseHandle): ChangeFeed =>
        config.databaseUrl !== null
          ? new PostgresChangeFeed({ databaseUrl: config.databaseUrl, timeouts: databaseTimeouts(config), probeEveryMs: config.changeFeedProbeMs })
          : new EmbeddedChangeFeed(embedded.pglite!),
    },
  ],
  exports: [SnapshotService, StreamHub, DeliveryHttpHandler],
})
export class DeliveryModule {}
