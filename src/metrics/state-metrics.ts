import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import type { PoolState } from '../database/pool-state.js';
import type { StreamProtocol } from './http-metrics.js';
import { MetricsService } from './metrics.service.js';
import { type OpenStreams, type ServedSnapshot, STATE_SOURCES, type StateSources, type TrafficCounters, type TrafficStatsSource } from './state-sources.js';

/**
 * Metrics sampled at each scrape from the services' own read-only getters, so nothing is added to
 * any request path: open SDK streams, the snapshot revision being served, the database pool, what
 * became of the SDKs' usage reports.
 */
@Injectable()
export class StateMetrics implements OnModuleInit {
  private snapshots: ServedSnapshot | null = null;
  private hubs: readonly (readonly [StreamProtocol, OpenStreams])[] = [];
  private traffic: TrafficStatsSource | null = null;
  private pool: (() => PoolState | null) | null = null;

  constructor(
    metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const registers = [metrics.registry];
    // prom-client calls `collect` on the metric (`this`); these read this service's lookups.
    const hubs = () => this.hubs;
    const revision = () => this.snapshots?.current()?.revision ?? 0;
    new Gauge({
      name: 'switchyard_sdk_streams_open',
      help: 'SDK streams open on this instance, by protocol: "switchyard" (/sdk/v1/stream) or "unleash" (/api/client/streaming).',
      labelNames: ['protocol'],
      registers,
      collect() {
        for (const [protocol, hub] of hubs()) this.set({ protocol }, hub.size);
      },
    });
    new Gauge({
      name: 'switchyard_snapshot_revision',
      help: 'Revision of the snapshot this instance serves to SDKs (0 until the first one is loaded). Instances behind one database should agree within a second.',
      registers,
      collect() {
        this.set(revision());
      },
    });

    // Both engines sit behind a node-postgres pool (see pool-state.ts); the embedded one has one
    // connection, so there `waiting` is the queue in front of PGlite's single session.
    const engine = config.databaseUrl === null ? 'embedded' : 'postgresql';
    const poolNow = () => this.pool?.() ?? null;
    const poolGauge = (name: string, help: string, read: (pool: PoolState) => number) =>
      new Gauge({
        name,
        help: `${help} Engine "postgresql": the pool of DATABASE_URL connections; "embedded": a pool of one connection to PGlite's single session.`,
        labelNames: ['engine'],
        registers,
        collect() {
          const pool = poolNow();
          // No pool while the DataSource is not connected: no sample rather than a made-up 0.
          if (pool === null) this.reset();
          else this.set({ engine }, read(pool));
        },
      });
    poolGauge('switchyard_db_pool_connections', 'Database connections open in the pool (in use or idle).', (p) => p.total);
    poolGauge('switchyard_db_pool_idle_connections', 'Database connections open and idle in the pool.', (p) => p.idle);
    poolGauge('switchyard_db_pool_waiting_requests', 'Queries waiting for a pool connection because every one is in use.', (p) => p.waiting);
    poolGauge('switchyard_db_pool_max_connections', 'The most connections the pool opens.', (p) => p.max);

    // Counters kept by the traffic intake, copied at each scrape (reset, then set to its totals).
    const trafficStats = () => this.traffic?.stats() ?? null;
    const trafficCounter = (name: string, help: string, labelName: string, read: (stats: TrafficCounters) => Record<string, number>) =>
      new Counter({
        name,
        help,
        labelNames: [labelName],
        registers,
        collect() {
          const stats = trafficStats();
          if (stats === null) return;
          this.reset();
          for (const [label, value] of Object.entries(read(stats))) this.inc({ [labelName]: label }, value);
        },
      });
    trafficCounter(
      'switchyard_traffic_reports_total',
      'Usage reports from SDKs (POST /sdk/v1/metrics, Unleash /api/client/metrics): "accepted" into the buffer, or "dropped" whole (invalid, implausible, over a limit, or the buffer full: see switchyard_traffic_refused_total).',
      'outcome',
      (s) => ({ accepted: s.acceptedReports, dropped: s.droppedReports }),
    );
    trafficCounter(
      'switchyard_traffic_flushes_total',
      'Writes of the buffered traffic to the database: "written", or "failed" (the batch is kept, as far as it fits, for the next one).',
      'outcome',
      (s) => ({ written: s.flushes, failed: s.failedFlushes }),
    );
    // Both labels from closed sets (traffic-ingest.service.ts), every pair present from start.
    new Counter({
      name: 'switchyard_traffic_refused_total',
      help: 'Traffic input not taken, by source ("sdk_metrics", "unleash_metrics", "unleash_register", "unleash_served") and reason ("invalid", "implausible", "instance_limit", "cell_limit", "buffer_full").',
      labelNames: ['source', 'reason'],
      registers,
      collect() {
        const stats = trafficStats();
        if (stats === null) return;
        this.reset();
        for (const [source, reasons] of Object.entries(stats.refused)) for (const [reason, count] of Object.entries(reasons)) this.inc({ source, reason }, count);
      },
    });
    const trafficTotal = (name: string, help: string, read: (stats: TrafficCounters) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = trafficStats();
          if (stats === null) return;
          this.reset();
          this.inc(read(stats));
        },
      });
    trafficTotal(
      'switchyard_traffic_dropped_decisions_total',
      'Decisions of valid, plausible reports that never reached the database: refused for a limit or a full buffer, in batches that could neither be written nor kept, or in rows the database refused.',
      (s) => s.droppedDecisions,
    );
    trafficTotal(
      'switchyard_traffic_unknown_slices_total',
      'Slice entries of usage reports dropped because no slice in the configuration this instance serves has that key.',
      (s) => s.unknownSlices,
    );
    trafficTotal(
      'switchyard_traffic_rejected_rows_total',
      'Traffic rows the database refused while the rest of their batch was written (found by bisecting the batch). Should stay 0: anything else is a bug.',
      (s) => s.rejectedRows,
    );
  }

  /**
   * Looked up rather than injected, so that MetricsModule imports no feature module: importing
   * DeliveryModule would change the order in which Nest destroys modules at shutdown (see
   * UnleashFeaturesService.onModuleInit). The app module provides STATE_SOURCES from the
   * services; every instance exists by onModuleInit.
   */
  onModuleInit(): void {
    const sources = this.moduleRef.get<StateSources>(STATE_SOURCES, { strict: false });
    this.snapshots = sources.snapshots;
    this.hubs = sources.streams;
    this.traffic = sources.traffic;
    this.pool = sources.pool;
  }
}
