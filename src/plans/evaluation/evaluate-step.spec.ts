import { latencyBucketOf, type SparseHistogram } from '@switchyard/client-sdk/core';
import type { PlanGates, ReporterEvidence, StepInput } from './contract.js';
import { evaluateStep } from './evaluate-step.js';

/** A histogram of `calls` durations spread evenly over [ms, 1.5·ms] (enough to read any percentile). */
function spread(calls: number, ms: number): SparseHistogram {
  const counts = new Map<number, number>();
  const points = 50;
  for (let j = 0; j < points; j++) {
    const count = Math.floor(calls / points) + (j < calls % points ? 1 : 0);
    const b = latencyBucketOf(ms * (1 + (0.5 * j) / (points - 1)));
    if (count > 0) counts.set(b, (counts.get(b) ?? 0) + count);
  }
  return [...counts].sort((a, b) => a[0] - b[0]);
}

interface Figures {
  newCalls: number;
  newFailures: number;
  legacyCalls: number;
  legacyFailures: number;
  newMs?: number;
  legacyMs?: number;
  compared?: number;
  mismatches?: number;
  share?: number;
}

/** An app's figures (`name`), or an instance's (`app/instance`: the app is what precedes the first '/'; use `appReporter` for an app whose name holds one). */
function reporter(name: string, f: Figures): ReporterEvidence {
  const slash = name.indexOf('/');
  return { ...appReporter(name, f), ...(slash < 0 ? {} : { app: name.slice(0, slash) }) };
}

function appReporter(name: string, f: Figures): ReporterEvidence {
  const decisions = f.newCalls + f.legacyCalls;
  return {
    reporter: name,
    next: { calls: f.newCalls, failures: f.newFailures, latency: spread(f.newCalls, f.newMs ?? 40) },
    legacy: { calls: f.legacyCalls, failures: f.legacyFailures, latency: spread(f.legacyCalls, f.legacyMs ?? 40) },
    compared: f.compared ?? 0,
    mismatches: f.mismatches ?? 0,
    decisions,
    newDecisions: f.share === undefined ? f.newCalls : Math.round(decisions * f.share),
  };
}

const GATES: PlanGates = {
  failureRate: { ceiling: 0.05, onFail: 'ROLLBACK' },
  latency: { percentile: 95, maxRatio: 1.5, ceilingMs: 2000, onFail: 'PAUSE' },
  mismatch: { threshold: 0.001, onFail: 'ROLLBACK' },
  observedShare: { tolerance: 0.02, onFail: 'PAUSE' },
};
const HOUR = 3_600_000;

function input(evidence: ReporterEvidence[], over: Partial<StepInput> = {}): StepInput {
  return {
    step: { basisPoints: 500, minDurationMs: HOUR, minNewCalls: 5000, minComparisons: 1000 },
    gates: GATES,
    elapsedMs: 2 * HOUR,
    evidence,
    followers: ['api', 'web'],
    ...over,
  };
}

const healthy = (name: string, scale = 1) =>
  reporter(name, { newCalls: 6000 * scale, newFailures: 30 * scale, legacyCalls: 114000 * scale, legacyFailures: 570 * scale, compared: 8000 * scale, mismatches: 1 });

describe('evaluateStep', () => {
  it('advances when the duration has passed, the evidence is sufficient and every gate passes', () => {
    const verdict = evaluateStep(input([healthy('api'), healthy('web')]));
    expect(verdict.kind).toBe('ADVANCE');
    expect(verdict.gates.map((g) => [g.gate, g.verdict])).toEqual([
      ['FAILURE_RATE', 'PASS'],
      ['LATENCY', 'PASS'],
      ['MISMATCH', 'PASS'],
      ['OBSERVED_SHARE', 'PASS'],
    ]);
  });

  it('holds before the minimum duration and says how long it has run of how long', () => {
    const verdict = evaluateStep(
      input([healthy('api'), healthy('web')], { elapsedMs: 23 * 60_000, step: { basisPoints: 500, minDurationMs: 6 * HOUR, minNewCalls: 5000, minComparisons: 1000 } }),
    );
    expect(verdict.kind).toBe('HOLD');
    expect(verdict.kind === 'HOLD' && verdict.waitingFor).toEqual(['23 min of 6 h']);
  });

  it('holds on too few NEW calls and comparisons, in words a person reads at a glance', () => {
    const small = reporter('api', { newCalls: 606, newFailures: 3, legacyCalls: 11500, legacyFailures: 57, compared: 155 });
    const verdict = evaluateStep(input([small, { ...small, reporter: 'web' }]));
    expect(verdict.kind).toBe('HOLD');
    if (verdict.kind !== 'HOLD') return;
    expect(verdict.waitingFor).toContain('1,212 of 5,000 NEW calls');
    expect(verdict.waitingFor).toContain('comparisons: 310 of 1,000');
  });

  it('rolls back when NEW fails five times as often, and names the reporter it happens for', () => {
    const bad = reporter('web', { newCalls: 6000, newFailures: 150, legacyCalls: 114000, legacyFailures: 570, compared: 8000 });
    const verdict = evaluateStep(input([healthy('api'), bad]));
    expect(verdict.kind).toBe('FAIL');
    if (verdict.kind !== 'FAIL') return;
    expect(verdict.action).toBe('ROLLBACK');
    expect(verdict.failed.gate).toBe('FAILURE_RATE');
    expect(verdict.failed.reporters).toEqual(['web']);
  });

  it('a minority reporter still triggers the rollback, however much a flooding reporter claims', () => {
    const flood = reporter('api', { newCalls: 10_000_000, newFailures: 0, legacyCalls: 190_000_000, legacyFailures: 950_000, compared: 8000 });
    const victim = reporter('web', { newCalls: 3000, newFailures: 90, legacyCalls: 57000, legacyFailures: 285, compared: 8000 });
    const verdict = evaluateStep(input([flood, victim]));
    expect(verdict.kind).toBe('FAIL');
    if (verdict.kind !== 'FAIL') return;
    expect(verdict.failed.reporters).toEqual(['web']);
    expect(verdict.failed.figures.disagreeing).toContain('api');
  });

  it('one reporter cannot make the minimum evidence alone when two apps follow', () => {
    const verdict = evaluateStep(input([healthy('api', 10)]));
    expect(verdict.kind).toBe('HOLD');
    if (verdict.kind !== 'HOLD') return;
    expect(verdict.waitingFor[0]).toBe('2,500 of 5,000 NEW calls (one reporter or app counts for at most 2,500)');
  });

  it('one instance of the one app that follows cannot make the minimum alone when its other instances report', () => {
    const pod = (instance: string, newCalls: number) =>
      reporter(`api/${instance}`, {
        newCalls,
        newFailures: Math.round(newCalls / 200),
        legacyCalls: newCalls * 19,
        legacyFailures: Math.round((newCalls * 19) / 200),
        compared: 3000,
      });
    const only = { followers: ['api'] };
    // One pod claims everything; its two siblings report a little: the pod counts for half.
    const verdict = evaluateStep(input([pod('p1', 50_000), pod('p2', 400), pod('p3', 400)], only));
    expect(verdict.kind === 'HOLD' && verdict.waitingFor[0]).toBe('3,300 of 5,000 NEW calls (one reporter or app counts for at most 2,500)');
    // Spread over the pods, the same evidence is enough; and a single pod, alone, is the app.
    expect(evaluateStep(input([pod('p1', 3000), pod('p2', 2400), pod('p3', 400)], only)).kind).toBe('ADVANCE');
    expect(evaluateStep(input([{ ...pod('p1', 6000), compared: 8000 }], only)).kind).toBe('ADVANCE');
  });

  it("reads an instance's app from the evidence, never from its name: apps named with a '/' are apps", () => {
    const big = { newCalls: 6000, newFailures: 30, legacyCalls: 114_000, legacyFailures: 570, compared: 8000 };
    // One follower app, "team/api", reporting alone: it may make the minimum by itself (it is no pod).
    expect(evaluateStep(input([appReporter('team/api', big)], { followers: ['team/api'] })).kind).toBe('ADVANCE');
    // Its two pods: each is capped, the app being "team/api" (not "team").
    const pod = (instance: string, newCalls: number): ReporterEvidence => ({
      ...appReporter(`team/api/${instance}`, {
        newCalls,
        newFailures: Math.round(newCalls / 200),
        legacyCalls: newCalls * 19,
        legacyFailures: Math.round((newCalls * 19) / 200),
        compared: 3000,
      }),
      app: 'team/api',
    });
    const verdict = evaluateStep(input([pod('p1', 6000), pod('p2', 100)], { followers: ['team/api'] }));
    expect(verdict.kind === 'HOLD' && verdict.waitingFor[0]).toBe('2,600 of 5,000 NEW calls (one reporter or app counts for at most 2,500)');
  });

  it("caps each app over its instances when two apps follow: one app's many pods cannot make the minimum", () => {
    const pod = (name: string) => reporter(name, { newCalls: 2000, newFailures: 10, legacyCalls: 38000, legacyFailures: 190, compared: 1000 });
    const verdict = evaluateStep(input([pod('api/p1'), pod('api/p2'), pod('api/p3'), reporter('web/w1', { newCalls: 100, newFailures: 0, legacyCalls: 1900, legacyFailures: 9 })]));
    expect(verdict.kind === 'HOLD' && verdict.waitingFor[0]).toBe('2,600 of 5,000 NEW calls (one reporter or app counts for at most 2,500)');
  });

  it('names an instance whose figures disagree with the rest, without changing the verdict', () => {
    // web/w2 never fails, on either path, where the others fail 0.5 % of the time: a host that does not report its failures.
    const pod = (name: string, calls: number, rate: number) =>
      reporter(name, { newCalls: calls, newFailures: Math.round(calls * rate), legacyCalls: calls * 19, legacyFailures: Math.round(calls * 19 * rate), compared: 1000 });
    const pods = [pod('api/p1', 4000, 0.005), pod('api/p2', 4000, 0.005), pod('web/w1', 4000, 0.005), pod('web/w2', 500, 0)];
    const verdict = evaluateStep(input(pods, { gates: { failureRate: { ceiling: 0.2, onFail: 'ROLLBACK' } } }));
    expect(verdict.kind).toBe('ADVANCE');
    expect(verdict.gates[0]!.figures.disagreeing).toBe('web/w2');
  });

  it('with one follower, its evidence is enough; evidence from apps that do not follow is not', () => {
    expect(evaluateStep(input([healthy('api')], { followers: ['api'] })).kind).toBe('ADVANCE');
    const verdict = evaluateStep(input([healthy('batch')], { followers: ['api'] }));
    expect(verdict.kind).toBe('HOLD');
  });

  it('pauses on a latency regression (the gate says PAUSE) and prefers ROLLBACK when both fail', () => {
    const slow = (name: string) => reporter(name, { newCalls: 6000, newFailures: 30, legacyCalls: 114000, legacyFailures: 570, compared: 8000, newMs: 120 });
    const paused = evaluateStep(input([slow('api'), slow('web')]));
    expect(paused.kind === 'FAIL' && [paused.action, paused.failed.gate]).toEqual(['PAUSE', 'LATENCY']);
    const both = evaluateStep(input([slow('api'), reporter('web', { newCalls: 6000, newFailures: 300, legacyCalls: 114000, legacyFailures: 570, compared: 8000, newMs: 120 })]));
    expect(both.kind === 'FAIL' && [both.action, both.failed.gate]).toEqual(['ROLLBACK', 'FAILURE_RATE']);
  });

  it('fails the observed-share gate for a follower that does not follow', () => {
    const stale = reporter('web', { newCalls: 6000, newFailures: 30, legacyCalls: 114000, legacyFailures: 570, compared: 8000, share: 0 });
    const verdict = evaluateStep(input([healthy('api'), stale]));
    expect(verdict.kind === 'FAIL' && [verdict.failed.gate, verdict.failed.reporters]).toEqual(['OBSERVED_SHARE', ['web']]);
  });

  it('compares with the baseline at 100 %, where no LEGACY is left', () => {
    const all = (name: string, failures: number) => reporter(name, { newCalls: 60000, newFailures: failures, legacyCalls: 0, legacyFailures: 0, compared: 8000 });
    const step = { basisPoints: 10000, minDurationMs: HOUR, minNewCalls: 5000, minComparisons: 1000 };
    const gates: PlanGates = { failureRate: GATES.failureRate!, mismatch: GATES.mismatch! };
    const baseline = { calls: 1_000_000, failures: 5000, latency: spread(1000, 40) };
    expect(evaluateStep(input([all('api', 300), all('web', 300)], { step, gates })).kind).toBe('HOLD');
    expect(evaluateStep(input([all('api', 300), all('web', 300)], { step, gates, baseline })).kind).toBe('ADVANCE');
    expect(evaluateStep(input([all('api', 300), all('web', 1500)], { step, gates, baseline })).kind).toBe('FAIL');
  });

  it('holds on hostile figures, names the reporter, and never throws', () => {
    const liar = { ...healthy('web'), next: { calls: 10, failures: 20, latency: [] } };
    const verdict = evaluateStep(input([healthy('api'), liar]));
    expect(verdict.kind).toBe('HOLD');
    expect(verdict.kind === 'HOLD' && verdict.waitingFor).toContain('valid figures from web (refused)');
    expect(() => evaluateStep({} as StepInput)).not.toThrow();
    expect(evaluateStep({} as StepInput).kind).toBe('HOLD');
  });
});
