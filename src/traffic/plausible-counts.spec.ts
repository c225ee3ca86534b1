import fc from 'fast-check';
import { decisionCeiling, implausibleCounts, MIN_CEILING_SPAN_MS } from './plausible-counts.js';
import { MAX_REPORT_SPAN_MS } from './traffic-buffer.js';
import type { PathCounts } from './traffic-report.js';

const field = (key: string) => `bucket.slices[${JSON.stringify(key)}]`;
const entries = (o: Record<string, [number, number]>): [string, PathCounts][] => Object.entries(o).map(([k, [NEW, LEGACY]]) => [k, { NEW, LEGACY }]);

describe('decisionCeiling', () => {
  it('is the rate times the span, the span clamped to a second at least and a day at most', () => {
    expect(decisionCeiling(60_000, 1_000)).toBe(60_000n);
    expect(decisionCeiling(0, 1_000)).toBe(1_000n);
    expect(decisionCeiling(-5_000, 1_000)).toBe(1_000n);
    expect(decisionCeiling(10 * MAX_REPORT_SPAN_MS, 1_000)).toBe(86_400_000n);
    expect(decisionCeiling(Number.NaN, 1_000)).toBe(1_000n);
    // Beyond 2^53 at a high configured rate: exact in bigint.
    expect(decisionCeiling(MAX_REPORT_SPAN_MS, 1_000_000_000_000)).toBe(86_400_000_000_000_000n);
  });
});

describe('implausibleCounts', () => {
  it('names each slice over the ceiling, else the total when only the sum is over', () => {
    const ceiling = decisionCeiling(60_000, 100); // 6,000
    expect(implausibleCounts(entries({ a: [3_000, 3_000] }), ceiling, field, 'bucket.slices')).toEqual([]);
    expect(implausibleCounts(entries({ a: [6_000, 1], b: [1, 1] }), ceiling, field, 'bucket.slices').map((v) => v.field)).toEqual(['bucket.slices["a"]']);
    expect(implausibleCounts(entries({ a: [3_000, 0], b: [3_001, 0] }), ceiling, field, 'bucket.slices').map((v) => v.field)).toEqual(['bucket.slices']);
  });

  it('refuses the 2^53 - 1 report at any plausible rate', () => {
    const ceiling = decisionCeiling(60_000, 1_000_000);
    expect(implausibleCounts(entries({ a: [Number.MAX_SAFE_INTEGER, 0] }), ceiling, field, 'bucket.slices')).toHaveLength(1);
  });

  it('accepts exactly what stays within the ceiling, per slice and in total, and never overflows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), fc.record({ NEW: fc.oneof(fc.nat(100_000), fc.maxSafeNat()), LEGACY: fc.oneof(fc.nat(100_000), fc.maxSafeNat()) })), { maxLength: 50 }),
        fc.integer({ min: -MAX_REPORT_SPAN_MS, max: 3 * MAX_REPORT_SPAN_MS }),
        // Ceilings in numbers (most) and beyond 2^53 (a rate of 10^12 a second over a day).
        fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 1_000_000_000_000 })),
        (slices, span, rate) => {
          const ceiling = decisionCeiling(span, rate);
          expect(ceiling).toBeLessThanOrEqual((BigInt(rate) * BigInt(MAX_REPORT_SPAN_MS)) / 1000n);
          expect(ceiling).toBeGreaterThanOrEqual((BigInt(rate) * BigInt(MIN_CEILING_SPAN_MS)) / 1000n);
          const violations = implausibleCounts(slices, ceiling, field, 'bucket.slices');
          const total = slices.reduce((sum, [, c]) => sum + BigInt(c.NEW) + BigInt(c.LEGACY), 0n);
          expect(violations.length === 0).toBe(total <= ceiling);
          // Exactly the slices over the ceiling (the first 20), else the total alone.
          const over = slices.filter(([, c]) => BigInt(c.NEW) + BigInt(c.LEGACY) > ceiling).map(([key]) => field(key));
          expect(violations.map((v) => v.field)).toEqual(over.length > 0 ? over.slice(0, 20) : total > ceiling ? ['bucket.slices'] : []);
          expect(violations.length).toBeLessThanOrEqual(20);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
