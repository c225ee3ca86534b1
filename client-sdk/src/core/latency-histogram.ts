/**
 * The latency histogram scheme every SDK and the service share (docs/outcomes.md, "Latency"):
 * fixed logarithmic buckets, so that histograms from any number of instances and minutes merge
 * exactly by adding counts, and any percentile read from a merged histogram is within 2 % of the
 * true value of the sample at that rank.
 *
 * The buckets are those of DDSketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable
 * quantile sketch with relative-error guarantees", VLDB 2019) with a fixed range instead of a
 * collapsing one: with α = 0.02 and γ = (1 + α) / (1 - α), bucket i ≥ 1 holds the durations in
 * (MIN·γ^(i-1), MIN·γ^i], and the value reported for it, 2·MIN·γ^i / (γ + 1), is within α of every
 * duration in it. Bucket 0 holds everything at or under MIN (1 µs; reported as MIN); the last
 * bucket also holds everything above an hour (reported as the hour: a bound, not an estimate).
 *
 * Pure and allocation-free on the recording path (`latencyBucketOf` is one logarithm).
 */

/** The scheme's name, sent with every histogram: a service refuses a scheme it does not know. */
export const LATENCY_SCHEME = 'log2pct-v1';
/** The relative error of a percentile read from these buckets (between 1 µs and 1 h). */
export const LATENCY_RELATIVE_ERROR = 0.02;
/** Durations at or under this many milliseconds (1 µs) fall in bucket 0. */
export const LATENCY_MIN_MS = 0.001;
/** Durations above this many milliseconds (1 h) fall in the last bucket. */
export const LATENCY_MAX_MS = 3_600_000;

const GAMMA = (1 + LATENCY_RELATIVE_ERROR) / (1 - LATENCY_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);

/** How many buckets there are: indexes 0 .. LATENCY_BUCKETS - 1 (552). */
export const LATENCY_BUCKETS = Math.ceil(Math.log(LATENCY_MAX_MS / LATENCY_MIN_MS) / LOG_GAMMA) + 1;
const LAST = LATENCY_BUCKETS - 1;

/** The bucket a duration in milliseconds falls in. NaN and negatives count as 0 (clocks step back). */
export function latencyBucketOf(durationMs: number): number {
  if (!(durationMs > LATENCY_MIN_MS)) return 0; // also NaN
  const index = Math.ceil(Math.log(durationMs / LATENCY_MIN_MS) / LOG_GAMMA);
  return index < LAST ? index : LAST;
}

/** The duration reported for a bucket: within 2 % of every duration in it (bucket 0: 1 µs; the last: 1 h, a lower bound). */
export function latencyBucketValue(index: number): number {
  if (index <= 0) return LATENCY_MIN_MS;
  if (index >= LAST) return LATENCY_MAX_MS;
  return (2 * LATENCY_MIN_MS * GAMMA ** index) / (GAMMA + 1);
}

/** True when `index` is a bucket of this scheme. */
export function isLatencyBucket(index: unknown): index is number {
  return typeof index === 'number' && Number.isInteger(index) && index >= 0 && index <= LAST;
}

/**
 * A histogram as it travels and is stored: `[bucket, count]` pairs, buckets strictly increasing,
 * counts positive. Sparse: a path's durations usually fill a few dozen buckets of the 552.
 */
export type SparseHistogram = readonly (readonly [bucket: number, count: number])[];

/** The sparse form of a dense array of counts (index = bucket). Zero counts are left out. */
export function sparseOf(counts: ArrayLike<number>): [number, number][] {
  const pairs: [number, number][] = [];
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index]!;
    if (count > 0) pairs.push([index, count]);
  }
  return pairs;
}

/**
 * A sparse histogram (at least one pair) in the compact report form (docs/outcomes.md, "The
 * compact form"): the first bucket, then each bucket's count in turn, a run of empty buckets
 * written as its length negated. `[[402, 3], [403, 1], [410, 2]]` is `[402, 3, 1, -6, 2]`.
 */
export function compactOf(histogram: SparseHistogram): number[] {
  const out: number[] = [];
  let next = -1;
  for (const [bucket, count] of histogram) {
    if (next === -1) out.push(bucket);
    else if (bucket > next) out.push(next - bucket);
    out.push(count);
    next = bucket + 1;
  }
  return out;
}

/** Adds histograms bucket by bucket: the exact merge (order does not matter). */
export function mergeSparse(histograms: Iterable<SparseHistogram>): [number, number][] {
  const sums = new Map<number, number>();
  for (const histogram of histograms) {
    for (const [bucket, count] of histogram) sums.set(bucket, (sums.get(bucket) ?? 0) + count);
  }
  return [...sums].sort((a, b) => a[0] - b[0]);
}

/**
 * The `q`-quantile (0 < q ≤ 1) of the durations a histogram counts: the value of the bucket that
 * holds the sample of rank ⌈q·n⌉ (the "nearest rank" definition), so within 2 % of that sample.
 * Null for an empty histogram.
 */
export function latencyQuantile(histogram: SparseHistogram, q: number): number | null {
  let total = 0;
  for (const [, count] of histogram) total += count;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(Math.min(Math.max(q, 0), 1) * total));
  let seen = 0;
  for (const [bucket, count] of histogram) {
    seen += count;
    if (seen >= rank) return latencyBucketValue(bucket);
  }
  return latencyBucketValue(histogram[histogram.length - 1]![0]);
}
