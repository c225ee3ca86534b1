import { Module } from '@nestjs/common';
import { ChangeMetrics } from './change-metrics.js';
import { GraphqlMetrics } from './graphql-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { OutcomeMetrics } from './outcome-metrics.js';
import { StateMetrics } from './state-metrics.js';

/**
 * GET /metrics (Prometheus) and what feeds it: HttpMetrics (installed on the HTTP server by
 * createApp), GraphqlMetrics (an Apollo plugin, registered in graphql.config.ts), ChangeMetrics
 * (ChangeService's commits), StateMetrics (sampled at scrape), OutcomeMetrics (outcomes of the
 * slices SWITCHYARD_METRICS_OUTCOME_SLICES lists, as reports come in). Imports no feature module: the
 * services it reads are looked up (see StateMetrics.onModuleInit). docs/metrics.md lists every
 * metric.
 */
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, HttpMetrics, GraphqlMetrics, ChangeMetrics, StateMetrics, OutcomeMetrics, MetricsTokenGuard],
  exports: [HttpMetrics, GraphqlMetrics],
})
export class MetricsModule {}
