import fc from 'fast-check';
import { MAX_STEPS, parseDuration, parseGates, parseSteps } from './plan-input.js';

const step = (percent: number, minDuration = '30m') => ({ percent, minDuration, minNewCalls: 0, minComparisons: 0, requiresApproval: false });
const fields = (r: ReturnType<typeof parseSteps>) => ('violations' in r ? r.violations.map((v) => v.field) : []);

describe('parseDuration', () => {
  it('reads a whole number and one unit, a minute to 90 days', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('6h')).toBe(21_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    for (const bad of ['', '0m', '91d', '1.5h', '90', '1D', '1h30m', ' 1d', '1d ', '-1d', '01h', '+1h', '1 h', '1e3m', '１d']) expect(parseDuration(bad)).toBeNull();
  });

  it('never throws and accepts only what it can print back', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const ms = parseDuration(text);
        if (ms === null) return;
        expect(text).toMatch(/^[1-9][0-9]*[mhd]$/);
        expect(ms).toBeGreaterThanOrEqual(60_000);
        expect(ms).toBeLessThanOrEqual(90 * 86_400_000);
      }),
    );
  });
});

describe('parseSteps', () => {
  it('keeps increasing percents as basis points with their durations', () => {
    const r = parseSteps([step(5, '1d'), step(50, '6h'), step(100, '30m')]);
    expect('steps' in r && r.steps.map((s) => [s.basisPoints, s.minDurationMs])).toEqual([
      [500, 86_400_000],
      [5_000, 21_600_000],
      [10_000, 1_800_000],
    ]);
  });

  it('names each offending field', () => {
    expect(fields(parseSteps([]))).toEqual(['steps']);
    expect(fields(parseSteps([step(50), step(50)]))).toEqual(['steps[1].percent']);
    expect(fields(parseSteps([step(0), step(100.5), step(33.333)]))).toEqual(['steps[0].percent', 'steps[1].percent', 'steps[2].percent']);
    expect(fields(parseSteps([step(5, '1w')]))).toEqual(['steps[0].minDuration']);
    expect(fields(parseSteps([{ ...step(5), minNewCalls: -1, minComparisons: 1.5 }]))).toEqual(['steps[0].minNewCalls', 'steps[0].minComparisons']);
    expect(fields(parseSteps(Array.from({ length: MAX_STEPS + 1 }, (_, i) => step(i + 1))))).toEqual(['steps']);
  });

  it('accepts exactly the strictly increasing lists of valid percents (hostile numbers included)', () => {
    const percent = fc.oneof(fc.double(), fc.integer({ min: -5, max: 105 }), fc.constantFrom(0.01, 100, Number.NaN, Infinity, 1e-9));
    fc.assert(
      fc.property(fc.array(percent, { minLength: 1, maxLength: 6 }), (percents) => {
        const r = parseSteps(percents.map((p) => step(p)));
        const valid = percents.every((p, i) => p > 0 && p <= 100 && Number.isFinite(p) && Math.abs(Math.round(p * 100) - p * 100) < 1e-6 && (i === 0 || p > percents[i - 1]!));
        expect('steps' in r).toBe(valid);
      }),
    );
  });
});

describe('parseGates', () => {
  it('turns percents into fractions and refuses out-of-range values by field', () => {
    const ok = parseGates({ failureRate: { ceilingPercent: 5, onFail: 'ROLLBACK' }, observedShare: { tolerancePercent: 2, onFail: 'PAUSE' } });
    expect('gates' in ok && ok.gates).toEqual({ failureRate: { ceiling: 0.05, onFail: 'ROLLBACK' }, observedShare: { tolerance: 0.02, onFail: 'PAUSE' } });
    const bad = parseGates({ latency: { percentile: 90, maxRatio: 0.5, ceilingMs: 0, onFail: 'NOPE' as 'PAUSE' } });
    expect('violations' in bad && bad.violations.map((v) => v.field)).toEqual([
      'gates.latency.percentile',
      'gates.latency.maxRatio',
      'gates.latency.ceilingMs',
      'gates.latency.onFail',
    ]);
  });
});
