import fc from 'fast-check';
import type { PathEvidence, PlanGates, ReporterEvidence, StepInput } from './contract.js';
import { evaluateStep, recentWindowStart } from './evaluate-step.js';
import { recentLevel } from './failure-rate-gate.js';
import { DEFAULT_PARAMETERS } from './parameters.js';
import { binomialByTrials, mulberry32 } from '../../../test/utils/prng.js';

/**
 * The failure-rate gate's recent-window test (docs/plan-statistics.md, "Recent window"): a
 * regression after hours of healthy traffic is caught on the last minutes' evidence, and the
 * windows' levels keep the gate's false-rollback budget.
 */
const MINUTE = 60_000;
const GATES: PlanGates = { failureRate: { ceiling: 1, onFail: 'ROLLBACK' } };
const STEP = { basisPoints: 500, minDurationMs: 24 * 60 * MINUTE, minNewCalls: 0, minComparisons: 0 };

const path = (calls: number, failures: number): PathEvidence => ({ calls, failures, latency: [] });
const reporter = (name: string, next: PathEvidence, legacy: PathEvidence): ReporterEvidence => ({
  reporter: name,
  next,
  legacy,
  compared: 0,
  mismatches: 0,
  decisions: 0,
  newDecisions: 0,
});

function input(evidence: ReporterEvidence[], recent?: StepInput['recent']): StepInput {
  return { step: STEP, gates: GATES, elapsedMs: 6 * 60 * MINUTE, evidence, followers: ['api'], ...(recent ? { recent } : {}) };
}

/** mulberry32 and a small binomial: seeded draws for the A/A property. */

describe('the recent-window test', () => {
  // Six hours at 5 %, 100 NEW calls/s, both paths failing 0.5 %; then NEW at 5 % for its last minute.
  const healthyNew = path(2_160_000, 10_800);
  const healthyLegacy = path(41_040_000, 205_200);
  const recentNew = path(6_000 + 24_000, 300 + 120); // 1 min regressed + 4 min healthy
  const recentLegacy = path(570_000, 2_850);
  const whole = [
    reporter(
      'api',
      path(healthyNew.calls + recentNew.calls, healthyNew.failures + recentNew.failures),
      path(healthyLegacy.calls + recentLegacy.calls, healthyLegacy.failures + recentLegacy.failures),
    ),
  ];

  it('catches a regression after hours of healthy traffic that the whole step hides', () => {
    const cumulativeOnly = evaluateStep(input(whole));
    expect(cumulativeOnly.kind).toBe('HOLD');
    const verdict = evaluateStep(input(whole, { startMinute: 356, evidence: [reporter('api', recentNew, recentLegacy)] }));
    expect(verdict.kind).toBe('FAIL');
    if (verdict.kind !== 'FAIL') return;
    expect(verdict.action).toBe('ROLLBACK');
    expect(verdict.failed.summary).toContain('since minute 356 of the step');
    expect(verdict.failed.figures.recentFromMinute).toBe(356);
    expect(verdict.failed.figures.recentNewFailures).toBe(420);
    expect(Number(verdict.failed.figures.recentLogThreshold)).toBeCloseTo(Math.log(1 / recentLevel(DEFAULT_PARAMETERS.alphaFail / 4, 356)), 3);
  });

  it('a window starting at minute 0 is the whole step: no second test', () => {
    const verdict = evaluateStep(input(whole, { startMinute: 0, evidence: [reporter('api', recentNew, recentLegacy)] }));
    expect(verdict.kind).toBe('HOLD');
    expect(verdict.gates[0]!.figures.recentFromMinute).toBeNull();
  });

  it('reporters refused in the step evidence, or with figures that are not counts, are left out of the window', () => {
    const liar = reporter('liar', path(Number.NaN, 0), path(1, 0));
    const recent = { startMinute: 10, evidence: [reporter('liar', path(1_000, 1_000), path(1_000_000, 0)), reporter('api', path(-1, 0), path(1, 0))] };
    const verdict = evaluateStep(input([...whole, liar], recent));
    expect(verdict.kind).toBe('HOLD');
    expect(verdict.gates[0]!.figures.recentNewCalls).toBe(0);
  });

  it('hostile windows never throw and never fail the gate by themselves', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (startMinute, evidence) => {
        const verdict = evaluateStep(input(whole, { startMinute, evidence } as unknown as StepInput['recent']));
        expect(verdict.kind).not.toBe('ADVANCE');
        expect(verdict.kind === 'FAIL' && verdict.failed.summary.includes('since minute')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('the windows share a quarter of the gate level: their levels sum to at most that, at any step length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 1e-9, max: 1, noNaN: true }), (minutes, budget) => {
        let sum = 0;
        for (let s = 1; s <= minutes; s++) sum += recentLevel(budget, s);
        expect(sum).toBeLessThanOrEqual(budget * (1 + 1e-9));
      }),
      { numRuns: 50 },
    );
  });

  it('the window starts recentWindowMinutes - 1 whole minutes before the current one, never before the step', () => {
    const w = DEFAULT_PARAMETERS.recentWindowMinutes;
    expect(recentWindowStart(0, 0)).toBe(0);
    expect(recentWindowStart((w - 1) * MINUTE - 1, 0)).toBe(0);
    expect(recentWindowStart(w * MINUTE, 0)).toBe(1);
    expect(recentWindowStart(w * MINUTE - 1_000, 2_000)).toBe(1);
    expect(recentWindowStart(6 * 60 * MINUTE, 0)).toBe(360 - w + 1);
    fc.assert(
      fc.property(fc.nat(), fc.nat(MINUTE - 1), (elapsed, offset) => {
        const s = recentWindowStart(elapsed, offset);
        const minute = Math.floor((elapsed + offset) / MINUTE);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(minute - s + 1).toBeLessThanOrEqual(w);
      }),
    );
  });

  it('A/A: looking every 10 s at both the step and its recent window, the gate FAILs no more often than its level', () => {
    // At alphaFail = 0.05 so that the property can fail in a few hundred runs; 12 minutes of
    // per-minute buckets, the window sliding over them (7 window starts besides the whole step).
    const parameters = { ...DEFAULT_PARAMETERS, alphaFail: 0.05 };
    let runs = 0;
    let failed = 0;
    fc.assert(
      fc.property(fc.double({ min: 0.005, max: 0.2, noNaN: true }), fc.double({ min: 0.02, max: 0.9, noNaN: true }), fc.integer(), (rate, share, seed) => {
        const random = mulberry32(seed);
        const minutes: { next: { calls: number; failures: number }; legacy: { calls: number; failures: number } }[] = [];
        runs++;
        for (let look = 1; look <= 72; look++) {
          const minute = Math.floor((look - 1) / 6);
          minutes[minute] ??= { next: { calls: 0, failures: 0 }, legacy: { calls: 0, failures: 0 } };
          const onNew = binomialByTrials(random, 40, share);
          minutes[minute].next.calls += onNew;
          minutes[minute].next.failures += binomialByTrials(random, onNew, rate);
          minutes[minute].legacy.calls += 40 - onNew;
          minutes[minute].legacy.failures += binomialByTrials(random, 40 - onNew, rate);
          const sum = (from: number) => {
            const next = { calls: 0, failures: 0, latency: [] };
            const legacy = { calls: 0, failures: 0, latency: [] };
            for (const m of minutes.slice(from)) {
              next.calls += m.next.calls;
              next.failures += m.next.failures;
              legacy.calls += m.legacy.calls;
              legacy.failures += m.legacy.failures;
            }
            return [reporter('api', next, legacy)];
          };
          const startMinute = recentWindowStart(look * 10_000, 0, parameters);
          const verdict = evaluateStep({ ...input(sum(0), { startMinute, evidence: sum(startMinute) }), elapsedMs: look * 10_000 }, parameters);
          if (verdict.kind === 'FAIL') {
            failed++;
            break;
          }
        }
      }),
      { numRuns: 200 },
    );
    expect(failed / runs).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / runs));
  });
});
