import fc from 'fast-check';
import {
  LATENCY_BUCKETS,
  LATENCY_MAX_MS,
  LATENCY_MIN_MS,
  LATENCY_RELATIVE_ERROR,
  latencyBucketOf,
  latencyBucketValue,
  latencyQuantile,
  mergeSparse,
  sparseOf,
  type SparseHistogram,
} from './latency-histogram.js';

function histogramOf(durations: readonly number[]): [number, number][] {
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const duration of durations) counts[latencyBucketOf(duration)]!++;
  return sparseOf(counts);
}

function exactQuantile(durations: readonly number[], q: number): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

const duration = fc.double({ min: LATENCY_MIN_MS * 1.0001, max: LATENCY_MAX_MS / 1.05, noNaN: true });

describe('latency histogram (log2pct-v1)', () => {
  it('has 552 buckets from 1 µs to an hour', () => {
    expect(LATENCY_BUCKETS).toBe(552);
    expect(latencyBucketOf(0)).toBe(0);
    expect(latencyBucketOf(-5)).toBe(0);
    expect(latencyBucketOf(Number.NaN)).toBe(0);
    expect(latencyBucketOf(LATENCY_MIN_MS)).toBe(0);
    expect(latencyBucketOf(Number.POSITIVE_INFINITY)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucketOf(10 * LATENCY_MAX_MS)).toBe(LATENCY_BUCKETS - 1);
  });

  it('reports every duration of a bucket within 2 %', () => {
    fc.assert(
      fc.property(duration, (ms) => {
        const value = latencyBucketValue(latencyBucketOf(ms));
        expect(Math.abs(value - ms) / ms).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR + 1e-12);
      }),
      { numRuns: 5000 },
    );
  });

  it('puts larger durations in the same or a later bucket', () => {
    fc.assert(fc.property(duration, duration, (a, b) => (a <= b ? latencyBucketOf(a) <= latencyBucketOf(b) : latencyBucketOf(a) >= latencyBucketOf(b))));
  });

  it('reads percentiles within 2 % of the exact nearest-rank percentile, merged or not', () => {
    fc.assert(
      fc.property(fc.array(fc.array(duration, { minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 5 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (parts, q) => {
        const all = parts.flat();
        const merged = mergeSparse(parts.map(histogramOf));
        expect(merged).toEqual(histogramOf(all));
        const estimate = latencyQuantile(merged, q)!;
        const exact = exactQuantile(all, q);
        expect(Math.abs(estimate - exact) / exact).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR + 1e-12);
      }),
    );
  });

  it('answers null for an empty histogram', () => {
    const empty: SparseHistogram = [];
    expect(latencyQuantile(empty, 0.5)).toBeNull();
  });
});
