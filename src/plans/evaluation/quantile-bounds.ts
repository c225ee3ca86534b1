/**
 * Bounds on a latency percentile that hold at every look (docs/plan-statistics.md, "Latency"). Pure.
 *
 * The method is Howard and Ramdas's confidence sequence for a quantile ("Sequential estimation of
 * quantiles with applications to A/B-testing and best-arm identification", Bernoulli 28(3), 2022):
 * of n durations, the number at or under the true q-quantile Q is Binomial(n, q), so a time-uniform
 * band [low, high] for that count (sequential.ts, countBounds) gives, at every look at once,
 * X(low) ≤ Q < X(high + 1), X(k) being the k-th smallest duration.
 *
 * The durations are only known to their log2pct-v1 bucket (client-sdk latency-histogram.ts), so
 * X(k) is replaced by its bucket's edges: the lower edge of the bucket holding rank `low`, the upper
 * edge of the bucket holding rank `high + 1`. That accounts for the histogram's 2 % exactly (each
 * edge is the reported value ÷ 1.02 or ÷ 0.98) instead of as a fudge factor. With too few durations
 * the upper bound is unbounded (the rank falls beyond the sample), which is how small samples hold.
 */
import { LATENCY_BUCKETS, LATENCY_MIN_MS, LATENCY_RELATIVE_ERROR, latencyBucketValue, type SparseHistogram } from '@switchyard/client-sdk/core';
import { countBounds } from './sequential.js';

const LAST = LATENCY_BUCKETS - 1;

/** The durations bucket `index` can hold: (lower, upper]; bucket 0 from 0, the last one to infinity. */
export function bucketEdges(index: number): { lower: number; upper: number } {
  if (index <= 0) return { lower: 0, upper: LATENCY_MIN_MS };
  // The reported value is 2·MIN·γ^i/(γ+1): the upper edge MIN·γ^i is value/(1-α), the lower value/(1+α).
  const lower = latencyBucketValue(Math.min(index, LAST - 1)) / (1 + LATENCY_RELATIVE_ERROR);
  if (index >= LAST) return { lower: latencyBucketValue(LAST - 1) / (1 - LATENCY_RELATIVE_ERROR), upper: Infinity };
  return { lower, upper: latencyBucketValue(index) / (1 - LATENCY_RELATIVE_ERROR) };
}

export interface QuantileBounds {
  /** Durations counted. */
  readonly count: number;
  /** The percentile read the usual way (nearest rank, the bucket's value), for people; null when empty. */
  readonly estimate: number | null;
  /** Milliseconds; 0 when the sample is too small to bound it from below. */
  readonly low: number;
  /** Milliseconds; Infinity when the sample is too small to bound it from above. */
  readonly high: number;
}

/** The bucket holding the sample of rank `rank` (1-based) of a valid histogram, or null past its end. */
function bucketAtRank(histogram: SparseHistogram, rank: number): number | null {
  let seen = 0;
  for (const [bucket, count] of histogram) {
    seen += count;
    if (seen >= rank) return bucket;
  }
  return null;
}

/**
 * The time-uniform (1 - α) bounds on the `q`-quantile (0 < q < 1) of the durations a histogram
 * counts. The histogram must be valid (buckets increasing, counts positive integers): evidence is
 * checked before (reporters.ts).
 */
export function quantileBounds(histogram: SparseHistogram, q: number, alpha: number): QuantileBounds {
  let count = 0;
  for (const [, c] of histogram) count += c;
  if (count === 0) return { count, estimate: null, low: 0, high: Infinity };
  const estimateBucket = bucketAtRank(histogram, Math.max(1, Math.ceil(q * count)))!;
  const { low, high } = countBounds(count, q, alpha);
  const lowBucket = low >= 1 ? bucketAtRank(histogram, low) : null;
  const highBucket = bucketAtRank(histogram, high + 1);
  return {
    count,
    estimate: latencyBucketValue(estimateBucket),
    low: lowBucket === null ? 0 : bucketEdges(lowBucket).lower,
    high: highBucket === null ? Infinity : bucketEdges(highBucket).upper,
  };
}
