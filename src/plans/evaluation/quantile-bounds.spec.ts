import { latencyBucketOf, mergeSparse } from '@switchyard/client-sdk/core';
import fc from 'fast-check';
import { bucketEdges, quantileBounds } from './quantile-bounds.js';

describe('quantileBounds', () => {
  it('every duration lies within its bucket edges', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 7_200_000, noNaN: true }), (ms) => {
        const { lower, upper } = bucketEdges(latencyBucketOf(ms));
        expect(ms === 0 || ms > lower * (1 - 1e-12)).toBe(true);
        expect(ms).toBeLessThanOrEqual(upper * (1 + 1e-12));
      }),
    );
  });

  it('the bounds hold the sample percentile itself, whatever the durations', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 3000 }), fc.constantFrom(0.5, 0.95, 0.99), (durations, q) => {
        const histogram = mergeSparse([durations.map((d) => [latencyBucketOf(d), 1] as const)]);
        const sorted = [...durations].sort((a, b) => a - b);
        const sample = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
        const bounds = quantileBounds(histogram, q, 0.001);
        expect(bounds.count).toBe(durations.length);
        expect(bounds.low).toBeLessThanOrEqual(sample * (1 + 1e-12));
        expect(bounds.high).toBeGreaterThanOrEqual(sample * (1 - 1e-12));
      }),
      { numRuns: 200 },
    );
  });

  it('few durations leave the percentile unbounded above; many narrow it to a few buckets', () => {
    expect(quantileBounds([[300, 10]], 0.99, 0.001).high).toBe(Infinity);
    const wide = mergeSparse([Array.from({ length: 200 }, (_, i) => [latencyBucketOf(40 + i * 0.1), 1000] as const)]);
    const { low, high, estimate } = quantileBounds(wide, 0.95, 0.001);
    expect(high / low).toBeLessThan(1.15);
    expect(estimate).toBeGreaterThan(low);
    expect(estimate).toBeLessThan(high);
  });
});
