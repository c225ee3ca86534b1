/**
 * The statistics of outcomes and shadow comparisons (docs/outcomes.md, "On the service"): pure,
 * no Nest, no I/O. Every interval is a two-sided 95 % interval.
 *
 * - A rate (failure rate, mismatch rate): the Wilson score interval (E. B. Wilson, "Probable
 *   inference, the law of succession, and statistical inference", JASA 22, 1927; method 3 of
 *   R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
 *   methods", Statistics in Medicine 17, 1998). Unlike the textbook p ± z·√(p(1-p)/n), it is
 *   never empty or outside [0, 1], and it is honest at 0 events (0 mismatches in 1,000 is not
 *   "exactly 0 %": its upper bound is 0.38 %).
 * - A difference of two rates (NEW - LEGACY): Newcombe's hybrid score interval, method 10 of
 *   R. G. Newcombe, "Interval estimation for the difference between independent proportions:
 *   comparison of eleven methods", Statistics in Medicine 17, 1998: it combines the two Wilson
 *   intervals, and behaves at rates near 0 where the Wald interval does not.
 * - Percentiles: read from merged log2pct-v1 histograms (client-sdk latencyQuantile), within 2 %.
 *
 * The tests (outcome-statistics.spec.ts) check these against the values printed in both papers.
 */
import { latencyQuantile, type SparseHistogram } from '@switchyard/client-sdk/core';

/** z for a two-sided 95 % interval: the 97.5th percentile of the standard normal distribution. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/**
 * The Wilson score interval for `events` out of `trials` (events may be fractional: used to ask
 * "what if the observed rate held over more trials"). Null with no trials.
 */
export function wilsonInterval(events: number, trials: number, z: number = Z_95): Interval | null {
  if (!(trials > 0)) return null;
  const p = Math.min(Math.max(events / trials, 0), 1);
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // Clamped: at p = 0 or 1 the bound is 0 or 1 exactly, which rounding can miss by 1e-17.
  return { estimate: p, low: p === 0 ? 0 : Math.max(0, centre - half), high: p === 1 ? 1 : Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval (method 10) for the difference of two rates, `a - b`:
 * with (l1, u1) and (l2, u2) the Wilson intervals of the two rates,
 * low = d - √((p1 - l1)² + (u2 - p2)²), high = d + √((u1 - p1)² + (p2 - l2)²).
 * Null unless both have trials.
 */
export function newcombeDifference(a: { events: number; trials: number }, b: { events: number; trials: number }, z: number = Z_95): Interval | null {
  const one = wilsonInterval(a.events, a.trials, z);
  const two = wilsonInterval(b.events, b.trials, z);
  if (one === null || two === null) return null;
  const d = one.estimate - two.estimate;
  return {
    estimate: d,
    low: d - Math.sqrt((one.estimate - one.low) ** 2 + (two.high - two.estimate) ** 2),
    high: d + Math.sqrt((one.high - one.estimate) ** 2 + (two.estimate - two.low) ** 2),
  };
}

/** p50, p95 and p99 in milliseconds of the durations a histogram counts; nulls when it is empty. */
export function percentilesOf(histogram: SparseHistogram): { p50: number | null; p95: number | null; p99: number | null } {
  return { p50: latencyQuantile(histogram, 0.5), p95: latencyQuantile(histogram, 0.95), p99: latencyQuantile(histogram, 0.99) };
}

export type ComparisonStatus = 'WITHIN' | 'ABOVE' | 'NOT_ENOUGH_DATA';

export interface ComparisonVerdict {
  readonly status: ComparisonStatus;
  /** The mismatch rate's Wilson interval; null with no comparisons. */
  readonly interval: Interval | null;
  /**
   * NOT_ENOUGH_DATA only: how many more comparisons, at the observed mismatch rate, would make the
   * interval fall wholly on one side of the threshold. With none yet: the fewest that, all
   * matching, would show WITHIN. Null when the observed rate equals the threshold (no number
   * ever decides) or the status is decided.
   */
  readonly comparisonsNeeded: number | null;
}

/** No window holds more than this many comparisons; a need beyond it is reported as null (never decides in practice). */
const MAX_NEEDED = 1e15;

function decided(interval: Interval, threshold: number): ComparisonStatus | null {
  if (interval.low > threshold) return 'ABOVE';
  if (interval.high <= threshold) return 'WITHIN';
  return null;
}

/**
 * ABOVE when the mismatch rate's interval lies wholly above `threshold` (a fraction, 0..1),
 * WITHIN when its upper bound is at or under it, else NOT_ENOUGH_DATA. Not enough data is never
 * read as WITHIN: a plan holds on it (DESIGN.md, "plan").
 */
export function comparisonStatus(mismatches: number, compared: number, threshold: number): ComparisonVerdict {
  const interval = wilsonInterval(mismatches, compared);
  if (interval !== null) {
    const status = decided(interval, threshold);
    if (status !== null) return { status, interval, comparisonsNeeded: null };
  }
  const rate = interval?.estimate ?? 0;
  if (interval !== null && rate === threshold) return { status: 'NOT_ENOUGH_DATA', interval, comparisonsNeeded: null };
  // The interval narrows as trials grow at a fixed rate: the smallest total that decides is found
  // by doubling, then bisection.
  const decidesAt = (total: number) => decided(wilsonInterval(rate * total, total)!, threshold) !== null;
  let high = Math.max(1, compared) * 2;
  while (!decidesAt(high)) {
    if (high > MAX_NEEDED) return { status: 'NOT_ENOUGH_DATA', interval, comparisonsNeeded: null };
    high *= 2;
  }
  let low = Math.max(compared, 0);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (decidesAt(mid)) high = mid;
    else low = mid;
  }
  return { status: 'NOT_ENOUGH_DATA', interval, comparisonsNeeded: high - compared };
}
