import { graphql, idempotencyKey } from './api.js';

/** The windows Slice.outcomes covers (docs/outcomes.md), each ending with the current minute. */
export type OutcomeWindow = 'LAST_5_MINUTES' | 'LAST_HOUR' | 'LAST_DAY' | 'SINCE_LAST_CHANGE';

export interface PathOutcome {
  readonly calls: number;
  readonly failures: number;
  /** A fraction from 0 to 1; null without calls. */
  readonly failureRate: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface MismatchSample {
  readonly appName: string;
  readonly at: string;
  readonly served: 'NEW' | 'LEGACY';
  readonly subject: string;
  /** As the SDK sent it: untrusted text, shown as text only. */
  readonly diff: string;
}

export interface ComparisonOutcome {
  readonly compared: number;
  readonly mismatches: number;
  readonly otherFailures: number;
  readonly timeouts: number;
  readonly mismatchRate: number | null;
  readonly mismatchRateLow: number | null;
  readonly mismatchRateHigh: number | null;
  readonly thresholdPercent: number;
  readonly status: 'WITHIN' | 'ABOVE' | 'NOT_ENOUGH_DATA';
  readonly comparisonsNeeded: number | null;
}

export interface SeriesPoint {
  readonly start: string;
  readonly legacyCalls: number;
  readonly legacyFailures: number;
  readonly legacyP95Ms: number | null;
  readonly newCalls: number;
  readonly newFailures: number;
  readonly newP95Ms: number | null;
  readonly compared: number;
  readonly mismatches: number;
}

export interface SliceOutcomes {
  readonly from: string;
  readonly to: string;
  readonly legacy: PathOutcome;
  readonly new: PathOutcome;
  readonly failureRateDifference: { readonly estimate: number; readonly low: number; readonly high: number } | null;
  readonly latencyDifferenceMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null } | null;
  readonly comparison: ComparisonOutcome & { readonly samples: readonly MismatchSample[] };
  readonly byApp: readonly { readonly appName: string; readonly legacy: PathOutcome; readonly new: PathOutcome; readonly comparison: ComparisonOutcome }[];
  readonly series: readonly SeriesPoint[];
}

/** A slice's observation settings (setObservation) and its outcomes over one window. */
export interface SliceObservation {
  readonly key: string;
  readonly state: string;
  readonly version: number;
  readonly watched: boolean;
  readonly shadowPercent: number;
  readonly mismatchThresholdPercent: number;
  readonly outcomes: SliceOutcomes;
}

const PATH = 'calls failures failureRate p50Ms p95Ms p99Ms';
const COMPARISON = 'compared mismatches otherFailures timeouts mismatchRate mismatchRateLow mismatchRateHigh thresholdPercent status comparisonsNeeded';

/** One query: the settings, both paths side by side, per app, the newest samples and a series of `stepMinutes` points. */
export async function loadObservation(key: string, window: OutcomeWindow, stepMinutes: number): Promise<SliceObservation> {
  const data = await graphql<{ slice: SliceObservation }>(
    `query ConsoleOutcomes($key: String!, $window: OutcomeWindow!, $step: Int!) {
      slice(key: $key) {
        key state version watched shadowPercent mismatchThresholdPercent
        outcomes(window: $window) {
          from to
          legacy { ${PATH} } new { ${PATH} }
          failureRateDifference { estimate low high }
          latencyDifferenceMs { p50 p95 p99 }
          comparison { ${COMPARISON} samples(limit: 5) { appName at served subject diff } }
          byApp { appName legacy { ${PATH} } new { ${PATH} } comparison { ${COMPARISON} } }
          series(stepMinutes: $step) { start legacyCalls legacyFailures legacyP95Ms newCalls newFailures newP95Ms compared mismatches }
        }
      }
    }`,
    { key, window, step: stepMinutes },
  );
  return data.slice;
}

export interface ObservationChange {
  readonly watched?: boolean;
  readonly shadowPercent?: number;
  readonly mismatchThresholdPercent?: number;
}

/** setObservation with the version shown, so a change made meanwhile is refused, never overwritten. */
export async function setObservation(key: string, change: ObservationChange, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `
      mutation ConsoleSetObservation($key: String!, $watched: Boolean, $shadow: Float, $threshold: Float, $reason: String, $v: Int, $idem: String) {
        setObservation(key: $key, watched: $watched, shadowPercent: $shadow, mismatchThresholdPercent: $threshold, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          key
          version
        }
      }
    `,
    {
      key,
      watched: change.watched ?? null,
      shadow: change.shadowPercent ?? null,
      threshold: change.mismatchThresholdPercent ?? null,
      reason: reason === '' ? null : reason,
      v: expectedVersion,
      idem: idempotencyKey(),
    },
  );
}
