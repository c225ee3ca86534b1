import { Inject, Injectable } from '@nestjs/common';
import { mergeSparse, type SparseHistogram } from '@switchyard/client-sdk/core';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { HistoryRepository } from '../history/history.repository.js';
import { comparisonStatus, type ComparisonStatus, newcombeDifference, percentilesOf } from './outcome-statistics.js';
import { type ComparisonSums, type LatencySums, OutcomesRepository, type PathSums, type SampleRow } from './outcomes.repository.js';
import { OBSERVATION_DEFAULTS } from '../slices/slice-record.js';
import { MINUTE_MS, minuteOf, type TrafficPath } from './traffic-buffer.js';

/** A series has at most this many points: a longer window widens the step (SINCE_LAST_CHANGE may cover days). */
export const MAX_SERIES_POINTS = 1_440;

export type OutcomeWindowName = 'LAST_5_MINUTES' | 'LAST_HOUR' | 'LAST_DAY' | 'SINCE_LAST_CHANGE';
const WINDOW_MINUTES: Record<Exclude<OutcomeWindowName, 'SINCE_LAST_CHANGE'>, number> = { LAST_5_MINUTES: 5, LAST_HOUR: 60, LAST_DAY: 1_440 };

export interface PathView {
  readonly calls: number;
  readonly failures: number;
  readonly failureRate: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface ComparisonView {
  readonly compared: number;
  readonly mismatches: number;
  readonly otherFailures: number;
  readonly timeouts: number;
  readonly mismatchRate: number | null;
  readonly mismatchRateLow: number | null;
  readonly mismatchRateHigh: number | null;
  readonly thresholdPercent: number;
  readonly status: ComparisonStatus;
  readonly comparisonsNeeded: number | null;
}

export interface OutcomesView {
  readonly from: Date;
  readonly to: Date;
  readonly legacy: PathView;
  readonly new: PathView;
  readonly failureRateDifference: { estimate: number; low: number; high: number } | null;
  readonly latencyDifferenceMs: { p50: number | null; p95: number | null; p99: number | null } | null;
  readonly comparison: ComparisonView;
  readonly byApp: readonly { appName: string; legacy: PathView; new: PathView; comparison: ComparisonView }[];
}

export interface SeriesPoint {
  readonly start: Date;
  readonly legacyCalls: number;
  readonly legacyFailures: number;
  readonly legacyP95Ms: number | null;
  readonly newCalls: number;
  readonly newFailures: number;
  readonly newP95Ms: number | null;
  readonly compared: number;
  readonly mismatches: number;
}

/** One path's view from its sums and histogram. */
export function pathView(calls: number, failures: number, histogram: SparseHistogram): PathView {
  const p = calls > 0 ? percentilesOf(histogram) : { p50: null, p95: null, p99: null };
  return { calls, failures, failureRate: calls > 0 ? failures / calls : null, p50Ms: p.p50, p95Ms: p.p95, p99Ms: p.p99 };
}

/** The comparison view: counts, the Wilson interval and the status against `threshold` (a fraction). */
export function comparisonView(c: Omit<ComparisonSums, 'appName'>, threshold: number): ComparisonView {
  const verdict = comparisonStatus(c.mismatches, c.compared, threshold);
  return {
    compared: c.compared,
    mismatches: c.mismatches,
    otherFailures: c.otherFailures,
    timeouts: c.timeouts,
    mismatchRate: verdict.interval?.estimate ?? null,
    mismatchRateLow: verdict.interval?.low ?? null,
    mismatchRateHigh: verdict.interval?.high ?? null,
    thresholdPercent: threshold * 100,
    status: verdict.status,
    comparisonsNeeded: verdict.comparisonsNeeded,
  };
}

const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/** Sums rows into NEW and LEGACY views (any set of apps). */
function sidesOf(paths: readonly PathSums[], latency: readonly LatencySums[]): Record<TrafficPath, PathView> {
  const side = (path: TrafficPath) => {
    let calls = 0;
    let failures = 0;
    for (const r of paths) {
      if (r.path !== path) continue;
      calls += r.calls;
      failures += r.failures;
    }
    const histogram = mergeSparse([latency.filter((r) => r.path === path).map((r) => [r.bucket, r.count] as const)]);
    return pathView(calls, failures, histogram);
  };
  return { NEW: side('NEW'), LEGACY: side('LEGACY') };
}

function comparisonSum(rows: readonly ComparisonSums[]): Omit<ComparisonSums, 'appName'> {
  const sum = { compared: 0, mismatches: 0, otherFailures: 0, timeouts: 0 };
  for (const r of rows) {
    sum.compared += r.compared;
    sum.mismatches += r.mismatches;
    sum.otherFailures += r.otherFailures;
    sum.timeouts += r.timeouts;
  }
  return sum;
}

/** Code-unit order, as the traffic views sort app names (COLLATE "C"). */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The read side of outcomes (GraphQL Slice.outcomes, the CLI through it): windows end with the
 * current minute, by the service's clock; statistics from outcome-statistics.ts.
 */
@Injectable()
export class OutcomesService {
  constructor(
    private readonly outcomes: OutcomesRepository,
    private readonly history: HistoryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * The mismatch threshold of a slice (`setObservation`'s mismatchThresholdPercent), as a fraction
   * (0.001 = 0.1 %). The one place that reads it; the default for a slice not (or no longer) there.
   */
  async mismatchThresholdOf(sliceKey: string): Promise<number> {
    return ((await this.outcomes.mismatchThresholdPpm(sliceKey)) ?? OBSERVATION_DEFAULTS.mismatchThresholdPpm) / 1_000_000;
  }

  /** The minutes [from, to) a window covers now. */
  async windowOf(sliceKey: string, window: OutcomeWindowName, now: number = this.clock.now().getTime()): Promise<{ from: Date; to: Date }> {
    const to = minuteOf(now) + MINUTE_MS;
    const oldest = to - this.config.trafficRetentionDays * 1_440 * MINUTE_MS;
    if (window !== 'SINCE_LAST_CHANGE') return { from: new Date(to - WINDOW_MINUTES[window] * MINUTE_MS), to: new Date(to) };
    const last = (await this.history.lastOfSlices([sliceKey])).get(sliceKey);
    const changedAt = last === undefined ? oldest : Date.parse(last.recordedAt);
    return { from: new Date(Math.min(Math.max(minuteOf(changedAt), oldest), to - MINUTE_MS)), to: new Date(to) };
  }

  /** Both paths side by side, their differences, the comparisons against the threshold, and the same per app. */
  async view(sliceKey: string, window: OutcomeWindowName, appName: string | null): Promise<OutcomesView> {
    const { from, to } = await this.windowOf(sliceKey, window);
    const [sums, threshold] = await Promise.all([this.outcomes.sums(sliceKey, from, to, appName), this.mismatchThresholdOf(sliceKey)]);
    const sides = sidesOf(sums.paths, sums.latency);
    const apps = [...new Set([...sums.paths, ...sums.comparisons].map((r) => r.appName))].sort(byCodeUnits);
    const bothCalled = sides.NEW.calls > 0 && sides.LEGACY.calls > 0;
    return {
      from,
      to,
      legacy: sides.LEGACY,
      new: sides.NEW,
      failureRateDifference: newcombeDifference({ events: sides.NEW.failures, trials: sides.NEW.calls }, { events: sides.LEGACY.failures, trials: sides.LEGACY.calls }),
      latencyDifferenceMs: bothCalled
        ? { p50: difference(sides.NEW.p50Ms, sides.LEGACY.p50Ms), p95: difference(sides.NEW.p95Ms, sides.LEGACY.p95Ms), p99: difference(sides.NEW.p99Ms, sides.LEGACY.p99Ms) }
        : null,
      comparison: comparisonView(comparisonSum(sums.comparisons), threshold),
      byApp: apps.map((app) => {
        const of = sidesOf(
          sums.paths.filter((r) => r.appName === app),
          sums.latency.filter((r) => r.appName === app),
        );
        return { appName: app, legacy: of.LEGACY, new: of.NEW, comparison: comparisonView(comparisonSum(sums.comparisons.filter((r) => r.appName === app)), threshold) };
      }),
    };
  }

  /** One point per step over [from, to), oldest first, steps without data as zeros. The step widens to keep MAX_SERIES_POINTS. */
  async series(sliceKey: string, from: Date, to: Date, stepMinutes: number, appName: string | null): Promise<SeriesPoint[]> {
    const minutes = (to.getTime() - from.getTime()) / MINUTE_MS;
    const step = Math.max(stepMinutes, Math.ceil(minutes / MAX_SERIES_POINTS));
    const sums = await this.outcomes.series(sliceKey, from, to, step, appName);
    const group = <T extends { start: number }>(rows: readonly T[]) => {
      const by = new Map<number, T[]>();
      for (const r of rows) {
        const list = by.get(r.start);
        if (list === undefined) by.set(r.start, [r]);
        else list.push(r);
      }
      return by;
    };
    const paths = group(sums.paths);
    const latency = group(sums.latency);
    const comparisons = new Map(sums.comparisons.map((r) => [r.start, r]));
    const points: SeriesPoint[] = [];
    for (let at = from.getTime(); at < to.getTime(); at += step * MINUTE_MS) {
      const sides = sidesOf(
        (paths.get(at) ?? []).map((r) => ({ ...r, appName: '' })),
        (latency.get(at) ?? []).map((r) => ({ ...r, appName: '' })),
      );
      const c = comparisons.get(at);
      points.push({
        start: new Date(at),
        legacyCalls: sides.LEGACY.calls,
        legacyFailures: sides.LEGACY.failures,
        legacyP95Ms: sides.LEGACY.p95Ms,
        newCalls: sides.NEW.calls,
        newFailures: sides.NEW.failures,
        newP95Ms: sides.NEW.p95Ms,
        compared: c?.compared ?? 0,
        mismatches: c?.mismatches ?? 0,
      });
    }
    return points;
  }

  /** The newest mismatch samples, newest first. */
  samples(sliceKey: string, limit: number, appName: string | null): Promise<SampleRow[]> {
    return this.outcomes.samples(sliceKey, limit, appName);
  }
}
