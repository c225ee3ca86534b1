import { latencyBucketOf } from '@switchyard/client-sdk/core';
import type { GraphqlClient } from './graphql-client.js';

/** GraphQL reads of Slice.outcomes (docs/outcomes.md, "On the service") and report bodies, shared by the outcome tests. */

export interface PathView {
  calls: number;
  failures: number;
  failureRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}
export interface ComparisonView {
  compared: number;
  mismatches: number;
  otherFailures: number;
  timeouts: number;
  mismatchRate: number | null;
  mismatchRateLow: number | null;
  mismatchRateHigh: number | null;
  thresholdPercent: number;
  status: 'WITHIN' | 'ABOVE' | 'NOT_ENOUGH_DATA';
  comparisonsNeeded: number | null;
  samples: { at: string; receivedAt: string; appName: string; served: string; subject: string; diff: string }[];
}
export interface OutcomesView {
  window: string;
  from: string;
  to: string;
  legacy: PathView;
  new: PathView;
  failureRateDifference: { estimate: number; low: number; high: number } | null;
  latencyDifferenceMs: { p50: number | null; p95: number | null; p99: number | null } | null;
  comparison: ComparisonView;
  byApp: { appName: string; legacy: PathView; new: PathView; comparison: Omit<ComparisonView, 'samples'> }[];
  series: {
    start: string;
    legacyCalls: number;
    legacyFailures: number;
    legacyP95Ms: number | null;
    newCalls: number;
    newFailures: number;
    newP95Ms: number | null;
    compared: number;
    mismatches: number;
  }[];
}

const PATH = 'calls failures failureRate p50Ms p95Ms p99Ms';
const COMPARISON = 'compared mismatches otherFailures timeouts mismatchRate mismatchRateLow mismatchRateHigh thresholdPercent status comparisonsNeeded';
export const OUTCOMES_QUERY = `query($key: String!, $window: OutcomeWindow, $appName: String, $step: Int) { slice(key: $key) { outcomes(window: $window, appName: $appName) {
  window from to legacy { ${PATH} } new { ${PATH} }
  failureRateDifference { estimate low high } latencyDifferenceMs { p50 p95 p99 }
  comparison { ${COMPARISON} samples(limit: 50) { at receivedAt appName served subject diff } }
  byApp { appName legacy { ${PATH} } new { ${PATH} } comparison { ${COMPARISON} } }
  series(stepMinutes: $step) { start legacyCalls legacyFailures legacyP95Ms newCalls newFailures newP95Ms compared mismatches } } } }`;

export async function readOutcomes(client: GraphqlClient, key: string, vars: { window?: string; appName?: string; step?: number } = {}): Promise<OutcomesView> {
  return (await client.ok<{ slice: { outcomes: OutcomesView } }>(OUTCOMES_QUERY, { key, ...vars })).slice.outcomes;
}

/** A path's outcome as the SDK reports it, from the durations it measured (log2pct-v1). */
export function pathOutcome(durationsMs: readonly number[], failures: number) {
  const counts = new Map<number, number>();
  for (const d of durationsMs) counts.set(latencyBucketOf(d), (counts.get(latencyBucketOf(d)) ?? 0) + 1);
  return { calls: durationsMs.length, failures, latency: { scheme: 'log2pct-v1', buckets: [...counts].sort((a, b) => a[0] - b[0]) } };
}

/** The nearest-rank `q`-quantile of a list of durations. */
export function exactQuantile(durationsMs: readonly number[], q: number): number {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}
