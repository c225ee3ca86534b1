import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { LATENCY_BUCKETS as LOG2PCT_BUCKETS, LATENCY_MIN_MS, LATENCY_RELATIVE_ERROR, latencyBucketValue } from '@switchyard/client-sdk/core';
import { Counter, type Metric } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { LATENCY_BUCKETS, MetricsService } from './metrics.service.js';
import { type ReportedOutcomes, STATE_SOURCES, type StateSources } from './state-sources.js';

const PATHS = ['NEW', 'LEGACY'] as const;
const GAMMA = (1 + LATENCY_RELATIVE_ERROR) / (1 - LATENCY_RELATIVE_ERROR);

/** Per log2pct-v1 bucket, the first Prometheus bucket (index into LATENCY_BUCKETS, seconds) whose bound holds all of it; LATENCY_BUCKETS.length: +Inf. */
const PROMETHEUS_BUCKET_OF: readonly number[] = Array.from({ length: LOG2PCT_BUCKETS }, (_, i) => {
  // The bucket's upper bound in seconds (bucket i holds (MIN·γ^(i-1), MIN·γ^i] ms); the last is unbounded.
  const upperSeconds = i === LOG2PCT_BUCKETS - 1 ? Infinity : (LATENCY_MIN_MS * GAMMA ** i) / 1_000;
  const index = LATENCY_BUCKETS.findIndex((le) => upperSeconds <= le);
  return index < 0 ? LATENCY_BUCKETS.length : index;
});

const HISTOGRAM_HELP =
  'Durations the SDKs measured on each path of the slices listed in SWITCHYARD_METRICS_OUTCOME_SLICES (from log2pct-v1 histograms: each count under the first bound at or above its bucket; the sum within 2 %).';

/** A slice's histogram on one path: counts per Prometheus bucket (not cumulative), the sum and the count. */
interface PathHistogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * Outcomes of the slices an operator lists in SWITCHYARD_METRICS_OUTCOME_SLICES (at most 50; none
 * by default), counted as this instance takes the SDKs' reports, so that teams can alert in their
 * own stack (docs/metrics.md): calls and failures per slice and path, and a latency histogram.
 * Labels come only from that list and the two paths: a reporter cannot add series.
 *
 * The histogram is rebuilt from the reports' log2pct-v1 buckets: each counts under the first
 * `le` at or above its upper bound (so a count is never placed below a duration it may hold),
 * and the sum adds each bucket's value (within 2 %). Summed across instances, as counters are.
 */
@Injectable()
export class OutcomeMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly slices: ReadonlySet<string>;
  private readonly calls: Counter<'slice' | 'path'>;
  private readonly failures: Counter<'slice' | 'path'>;
  private readonly histograms = new Map<string, PathHistogram>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.slices = new Set(config.metricsOutcomeSlices);
    const registers = [metrics.registry];
    this.calls = new Counter({
      name: 'switchyard_outcome_calls_total',
      help: 'Calls the SDKs measured on each path of the slices listed in SWITCHYARD_METRICS_OUTCOME_SLICES, as reported to this instance.',
      labelNames: ['slice', 'path'],
      registers,
    });
    this.failures = new Counter({
      name: 'switchyard_outcome_failures_total',
      help: 'Of those calls, the ones that failed (threw, rejected, or classified as failed by the host).',
      labelNames: ['slice', 'path'],
      registers,
    });
    for (const slice of this.slices) {
      for (const path of PATHS) {
        this.calls.inc({ slice, path }, 0);
        this.failures.inc({ slice, path }, 0);
        this.histograms.set(`${slice}\n${path}`, { counts: Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 });
      }
    }
    metrics.registry.registerMetric(this.histogramMetric() as unknown as Metric);
  }

  /** Looked up rather than injected, so that MetricsModule imports no feature (see StateMetrics). */
  onModuleInit(): void {
    if (this.slices.size === 0) return;
    const sources = this.moduleRef.get<StateSources>(STATE_SOURCES, { strict: false });
    this.unsubscribe = sources.outcomes.onOutcomes((_appName, outcomes) => this.record(outcomes));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private record(outcomes: ReportedOutcomes): void {
    for (const [slice, paths] of outcomes) {
      if (!this.slices.has(slice)) continue;
      for (const path of PATHS) {
        const o = paths[path];
        if (o === undefined || o.calls === 0) continue;
        this.calls.inc({ slice, path }, o.calls);
        this.failures.inc({ slice, path }, o.failures);
        const h = this.histograms.get(`${slice}\n${path}`)!;
        for (const [bucket, count] of o.latency) {
          h.counts[PROMETHEUS_BUCKET_OF[bucket]!]! += count;
          h.sum += (count * latencyBucketValue(bucket)) / 1_000;
          h.count += count;
        }
      }
    }
  }

  /**
   * A histogram prom-client renders like its own (name, help, type, values), built at scrape from
   * the counts above: prom-client's Histogram observes one value at a time, and a report brings
   * thousands per bucket.
   */
  private histogramMetric() {
    const name = 'switchyard_outcome_duration_seconds';
    const histograms = this.histograms;
    const bounds = [...LATENCY_BUCKETS.map(String), '+Inf'];
    return {
      name,
      help: HISTOGRAM_HELP,
      type: 'histogram',
      aggregator: 'sum',
      get: () => {
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
        for (const [key, h] of histograms) {
          const [slice, path] = key.split('\n') as [string, string];
          let cumulative = 0;
          bounds.forEach((le, i) => {
            cumulative += h.counts[i]!;
            values.push({ metricName: `${name}_bucket`, labels: { slice, path, le }, value: cumulative });
          });
          values.push({ metricName: `${name}_sum`, labels: { slice, path }, value: h.sum });
          values.push({ metricName: `${name}_count`, labels: { slice, path }, value: h.count });
        }
        return { name, help: HISTOGRAM_HELP, type: 'histogram', values, aggregator: 'sum' };
      },
      reset: () => {
        for (const h of histograms.values()) {
          h.counts.fill(0);
          h.sum = 0;
          h.count = 0;
        }
      },
    };
  }
}
