import fc from 'fast-check';
import { latencyBucketOf } from '@switchyard/client-sdk/core';
import { comparisonStatus, newcombeDifference, percentilesOf, wilsonInterval } from './outcome-statistics.js';

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const bounds = (i: { low: number; high: number } | null) => (i === null ? null : [round4(i.low), round4(i.high)]);

describe('wilsonInterval', () => {
  // Newcombe 1998 ("Two-sided confidence intervals for the single proportion"), Table I, method 3.
  it.each([
    [81, 263, [0.2553, 0.3662]],
    [15, 148, [0.0624, 0.1605]],
    [0, 20, [0, 0.1611]],
    [1, 29, [0.0061, 0.1718]],
  ])('%i of %i: %j, as printed by Newcombe (method 3)', (events, trials, expected) => {
    expect(bounds(wilsonInterval(events, trials))).toEqual(expected);
  });

  it('1 mismatch in 1,000: 0.1 %, from 0.0177 % to 0.564 %', () => {
    const i = wilsonInterval(1, 1000)!;
    expect(i.estimate).toBe(0.001);
    expect(i.low).toBeCloseTo(0.000177, 6);
    expect(i.high).toBeCloseTo(0.005643, 6);
  });

  it('is null without trials, and always a sub-interval of [0, 1] holding the estimate', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0, max: 1, noNaN: true }), (trials, share) => {
        const events = Math.floor(share * trials);
        const i = wilsonInterval(events, trials)!;
        expect(i.low).toBeGreaterThanOrEqual(0);
        expect(i.high).toBeLessThanOrEqual(1);
        expect(i.low).toBeLessThanOrEqual(i.estimate + 1e-12);
        expect(i.high).toBeGreaterThanOrEqual(i.estimate - 1e-12);
      }),
    );
  });
});

describe('newcombeDifference', () => {
  // Newcombe 1998 ("Interval estimation for the difference between independent proportions"),
  // Table II, method 10 (the hybrid score interval), examples (a) to (h).
  it.each([
    [56, 70, 48, 80, [0.0524, 0.3339]],
    [9, 10, 3, 10, [0.1705, 0.809]],
    [6, 7, 2, 7, [0.0582, 0.8062]],
    [5, 56, 0, 29, [-0.0381, 0.1926]],
    [0, 10, 0, 20, [-0.1611, 0.2775]],
    [0, 10, 0, 10, [-0.2775, 0.2775]],
    [10, 10, 0, 20, [0.6791, 1]],
    [10, 10, 0, 10, [0.6075, 1]],
  ])('%i/%i - %i/%i: %j, as printed by Newcombe (method 10)', (x1, n1, x2, n2, expected) => {
    expect(bounds(newcombeDifference({ events: x1, trials: n1 }, { events: x2, trials: n2 }))).toEqual(expected);
  });

  it('2 % failing on NEW against 0.1 % on LEGACY, 10,000 calls each: clearly worse', () => {
    const d = newcombeDifference({ events: 200, trials: 10_000 }, { events: 10, trials: 10_000 })!;
    expect(d.estimate).toBeCloseTo(0.019, 10);
    expect(d.low).toBeGreaterThan(0.015);
    expect(d.high).toBeLessThan(0.023);
  });

  it('is null unless both sides have trials', () => {
    expect(newcombeDifference({ events: 1, trials: 10 }, { events: 0, trials: 0 })).toBeNull();
    expect(newcombeDifference({ events: 0, trials: 0 }, { events: 1, trials: 10 })).toBeNull();
  });
});

describe('comparisonStatus (threshold 0.1 %)', () => {
  const threshold = 0.001;

  it('0 mismatches in 5,000 is WITHIN; 1 in 1,000 is not enough data, and says how many more would decide', () => {
    expect(comparisonStatus(0, 5_000, threshold)).toMatchObject({ status: 'WITHIN', comparisonsNeeded: null });
    const one = comparisonStatus(1, 1_000, threshold);
    // At exactly the threshold, no number of comparisons decides.
    expect(one).toMatchObject({ status: 'NOT_ENOUGH_DATA', comparisonsNeeded: null });
    const half = comparisonStatus(1, 2_000, threshold);
    expect(half.status).toBe('NOT_ENOUGH_DATA');
    const needed = half.comparisonsNeeded!;
    expect(needed).toBeGreaterThan(0);
    // At the observed rate, `needed` more decide, one fewer does not.
    const at = (total: number) => comparisonStatus(total * 0.0005, total, threshold).status;
    expect(at(2_000 + needed)).toBe('WITHIN');
    expect(at(2_000 + needed - 1)).toBe('NOT_ENOUGH_DATA');
  });

  it('50 in 1,000 is ABOVE; none yet needs the fewest comparisons that could show WITHIN', () => {
    expect(comparisonStatus(50, 1_000, threshold)).toMatchObject({ status: 'ABOVE', comparisonsNeeded: null });
    const none = comparisonStatus(0, 0, threshold);
    expect(none).toMatchObject({ status: 'NOT_ENOUGH_DATA', interval: null });
    // Wilson's upper bound at 0 events is z²/(n + z²): at or under 0.1 % from n = z²·0.999/0.001.
    expect(none.comparisonsNeeded).toBe(Math.ceil((1.959963984540054 ** 2 * 0.999) / 0.001));
    expect(comparisonStatus(0, 1_000, threshold).comparisonsNeeded).toBe(none.comparisonsNeeded! - 1_000);
  });

  it('WITHIN and ABOVE agree with the interval, and NOT_ENOUGH_DATA always says a positive need or null', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e7 }), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 1, max: 10_000 }), (compared, perMille, ppm) => {
        const mismatches = Math.floor((compared * perMille) / 100_000);
        const t = ppm / 1e6;
        const v = comparisonStatus(mismatches, compared, t);
        if (v.status === 'ABOVE') expect(v.interval!.low).toBeGreaterThan(t);
        else if (v.status === 'WITHIN') expect(v.interval!.high).toBeLessThanOrEqual(t);
        else if (v.comparisonsNeeded !== null) expect(v.comparisonsNeeded).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('percentilesOf', () => {
  it('reads p50, p95 and p99 within 2 % of the durations; nulls for nothing', () => {
    const durations = Array.from({ length: 10_000 }, (_, i) => 1 + i / 100); // 1 ms .. 101 ms
    const counts = new Map<number, number>();
    for (const d of durations) counts.set(latencyBucketOf(d), (counts.get(latencyBucketOf(d)) ?? 0) + 1);
    const p = percentilesOf([...counts].sort((a, b) => a[0] - b[0]));
    const exact = (q: number) => durations[Math.ceil(q * durations.length) - 1]!;
    expect(Math.abs(p.p50! / exact(0.5) - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(p.p95! / exact(0.95) - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(p.p99! / exact(0.99) - 1)).toBeLessThanOrEqual(0.02);
    expect(percentilesOf([])).toEqual({ p50: null, p95: null, p99: null });
  });
});
