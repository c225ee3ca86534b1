import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { AuthModule } from './auth/auth.module.js';
import { RequestAuthenticator } from './auth/request-authenticator.js';
import { ConsoleModule } from './console/console.module.js';
import { UnleashCompatModule } from './compat/unleash/unleash-compat.module.js';
import { UnleashStreamHub } from './compat/unleash/unleash-stream-hub.service.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { graphqlOptions } from './graphql.config.js';
import { requestIdMiddleware } from './common/http/request-id.middleware.js';
import { storableBodyMiddleware } from './common/http/storable-body.js';
import { createValidationPipe } from './common/validation/validation.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/env.js';
import type { Clock } from './common/scheduling/clock.js';
import { DatabaseModule } from './database/database.module.js';
import { ENTITIES } from './entities.js';
import { DecisionModule } from './decision/decision.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { poolState } from './database/pool-state.js';
import { SnapshotService } from './delivery/snapshot.service.js';
import { StreamHub } from './delivery/stream-hub.service.js';
import { HealthModule } from './health/health.module.js';
import { HistoryModule } from './history/history.module.js';
import { ChangesModule } from './changes/changes.module.js';
import { GraphqlMetrics } from './metrics/graphql-metrics.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { STATE_SOURCES, type StateSources } from './metrics/state-sources.js';
import { PlansModule } from './plans/plans.module.js';
import { RollbackModule } from './rollback/rollback.module.js';
import { FreezeModule } from './freeze/freeze.module.js';
import { SegmentsModule } from './segments/segments.module.js';
import { SlicesModule } from './slices/slices.module.js';
import { TrafficModule } from './traffic/traffic.module.js';
import { TrafficIngestService } from './traffic/traffic-ingest.service.js';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, clock),
        DatabaseModule.forRoot(ENTITIES),
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          imports: [AuthModule, MetricsModule],
          inject: [RequestAuthenticator, GraphqlMetrics],
          useFactory: (authenticator: RequestAuthenticator, metrics: GraphqlMetrics) => graphqlOptions(config, authenticator, metrics),
        }),
        AuthModule,
        HistoryModule,
        ChangesModule,
        SegmentsModule,
        SlicesModule,
        RollbackModule,
        FreezeModule,
        PlansModule,
        DecisionModule,
        DeliveryModule,
        HealthModule,
        UnleashCompatModule,
        TrafficModule,
        MetricsModule,
        ConsoleModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // What /metrics samples at each scrape, handed to MetricsModule as interfaces (see StateMetrics).
        {
          provide: STATE_SOURCES,
          inject: [SnapshotService, StreamHub, UnleashStreamHub, TrafficIngestService, DataSource],
          useFactory: (snapshots: SnapshotService, hub: StreamHub, unleashHub: UnleashStreamHub, traffic: TrafficIngestService, dataSource: DataSource): StateSources => ({
            snapshots,
            streams: [
              ['switchyard', hub],
              ['unleash', unleashHub],
            ],
            traffic,
            outcomes: traffic,
            pool: () => poolState(dataSource),
          }),
        },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestIdMiddleware).forRoutes('*path');
    consumer.apply(storableBodyMiddleware).forRoutes('*path');
  }
}
