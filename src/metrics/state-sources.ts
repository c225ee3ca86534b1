import type { PoolState } from '../database/pool-state.js';
import type { StreamProtocol } from './http-metrics.js';

/** The snapshot this instance serves to SDKs (SnapshotService): null until the first one is loaded. */
export interface ServedSnapshot {
  current(): { readonly revision: number } | null;
}

/** Streams open on one hub (StreamHub, UnleashStreamHub). */
export interface OpenStreams {
  readonly size: number;
}

/** Totals kept by the usage-report intake (TrafficIngestService): read, never reset, by the scrape. */
export interface TrafficCounters {
  readonly acceptedReports: number;
  readonly droppedReports: number;
  readonly flushes: number;
  readonly failedFlushes: number;
  readonly droppedDecisions: number;
  readonly unknownSlices: number;
  readonly rejectedRows: number;
  /** Input refused, by source and reason: every pair of the two closed sets present from the start. */
  readonly refused: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface TrafficStatsSource {
  stats(): TrafficCounters;
}

/** The outcomes of one report, per slice key and path (docs/outcomes.md): validated, known slices only. */
export type ReportedOutcomes = ReadonlyMap<
  string,
  Readonly<Partial<Record<'NEW' | 'LEGACY', { readonly calls: number; readonly failures: number; readonly latency: readonly (readonly [number, number])[] }>>>
>;

/** Tells of the outcomes of every report the usage-report intake takes (TrafficIngestService.onOutcomes). */
export interface OutcomeFeed {
  onOutcomes(listener: (appName: string, outcomes: ReportedOutcomes) => void): () => void;
}

/**
 * What StateMetrics samples at each scrape, as small interfaces rather than the services' classes,
 * so that metrics/ imports no feature. The app's wiring (app.module.ts) provides it under
 * STATE_SOURCES from the services that hold the state.
 */
export interface StateSources {
  readonly snapshots: ServedSnapshot;
  readonly streams: readonly (readonly [StreamProtocol, OpenStreams])[];
  readonly traffic: TrafficStatsSource;
  /** Outcomes as reports are taken (OutcomeMetrics). */
  readonly outcomes: OutcomeFeed;
  /** The database pool now (poolState of the app's DataSource): null while it is not connected. */
  readonly pool: () => PoolState | null;
}

export const STATE_SOURCES = Symbol('STATE_SOURCES');
