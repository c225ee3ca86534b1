import fc from 'fast-check';
import { LATENCY_SCHEME, latencyBucketOf, mergeSparse } from '../core/index.js';
import {
  EXACT_CALLS_PER_REPORT,
  MAX_OUTCOME_SLICES,
  MAX_SAMPLES_PER_REPORT,
  MAX_SAMPLES_PER_SLICE,
  OutcomeRecorder,
  TIMED_ONE_IN,
  type MismatchSample,
} from './outcome-recorder.js';

const sample = (n: number): MismatchSample => ({ at: '2026-12-02T10:00:00.000Z', served: 'LEGACY', subject: '0123456789abcdef', diff: `$.n: ${n} ≠ ${n + 1}` });

describe('OutcomeRecorder', () => {
  let sut: OutcomeRecorder;
  beforeEach(() => {
    sut = new OutcomeRecorder();
  });

  it('counts calls, failures and durations per slice and path, in the shared histogram scheme', () => {
    sut.record('checkout', 'NEW', true, 5);
    sut.record('checkout', 'NEW', false, 5);
    sut.record('checkout', 'LEGACY', true, 0.2);
    const { outcomes, comparisons } = sut.take();
    expect(outcomes.checkout).toEqual({
      NEW: { calls: 2, failures: 1, latency: { scheme: LATENCY_SCHEME, buckets: [[latencyBucketOf(5), 2]] } },
      LEGACY: { calls: 1, failures: 0, latency: { scheme: LATENCY_SCHEME, buckets: [[latencyBucketOf(0.2), 1]] } },
    });
    expect(Object.keys(comparisons)).toEqual([]);
  });

  it('histograms always sum to the calls; take + settle subtracts exactly what was taken, whatever came in between', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ path: fc.constantFrom('NEW' as const, 'LEGACY' as const), ok: fc.boolean(), ms: fc.double({ min: -1, max: 1e7, noNaN: false }), settleAfter: fc.boolean() }),
        ),
        (calls) => {
          const recorder = new OutcomeRecorder();
          const reported: { NEW: number; LEGACY: number; failures: number } = { NEW: 0, LEGACY: 0, failures: 0 };
          const drain = () => {
            const batch = recorder.take();
            for (const path of ['NEW', 'LEGACY'] as const) {
              const figures = batch.outcomes.s?.[path];
              if (figures === undefined) continue;
              expect(figures.latency.buckets.reduce((sum, [, count]) => sum + count, 0)).toBe(figures.calls);
              expect(figures.failures).toBeLessThanOrEqual(figures.calls);
              reported[path] += figures.calls;
              reported.failures += figures.failures;
            }
            return batch;
          };
          let pending = drain();
          for (const call of calls) {
            recorder.record('s', call.path, call.ok, call.ms);
            if (call.settleAfter) {
              recorder.settle(pending); // what was recorded after `pending` was taken stays
              pending = drain();
            }
          }
          recorder.settle(pending);
          drain();
          expect(reported.NEW).toBe(calls.filter((c) => c.path === 'NEW').length);
          expect(reported.LEGACY).toBe(calls.filter((c) => c.path === 'LEGACY').length);
          expect(reported.failures).toBe(calls.filter((c) => !c.ok).length);
        },
      ),
    );
  });

  it('keeps adding while reports fail, and sends the merged figures once one is accepted', () => {
    sut.record('checkout', 'NEW', true, 1);
    const failed = sut.take(); // never settled: the report failed
    expect(failed.outcomes.checkout!.NEW!.calls).toBe(1);
    sut.record('checkout', 'NEW', true, 1_000);
    const merged = sut.take();
    expect(merged.outcomes.checkout!.NEW!.calls).toBe(2);
    expect(merged.outcomes.checkout!.NEW!.latency.buckets).toEqual(mergeSparse([[[latencyBucketOf(1), 1]], [[latencyBucketOf(1_000), 1]]]));
    sut.settle(merged);
    expect(sut.take().outcomes).toEqual({});
  });

  it('records at most 1,000 slices, valid keys only, whatever the host passes; forgets empty ones once full and settled', () => {
    for (let i = 0; i < 5_000; i++) sut.record(`slice-${i}`, 'NEW', true, 1);
    sut.record('Not A Key', 'NEW', true, 1);
    sut.record('x'.repeat(200), 'NEW', true, 1);
    expect(sut.size).toBe(MAX_OUTCOME_SLICES);
    const batch = sut.take();
    expect(Object.keys(batch.outcomes)).toHaveLength(MAX_OUTCOME_SLICES);
    sut.settle(batch);
    // All empty now: room for others.
    sut.record('slice-4999', 'LEGACY', false, 1);
    expect(Object.keys(sut.take().outcomes)).toEqual(['slice-4999']);
  });

  it('counts comparisons and keeps at most 5 samples per slice and 20 per report', () => {
    for (let s = 0; s < 6; s++) {
      const key = `slice-${s}`;
      sut.recordComparison(key, 'match');
      for (let i = 0; i < 8; i++) {
        sut.recordComparison(key, 'mismatch');
        if (sut.wantsSample(key)) sut.addSample(key, sample(i));
      }
      sut.recordComparison(key, 'otherFailure');
      sut.recordComparison(key, 'timeout');
    }
    const first = sut.take();
    expect(first.comparisons['slice-0']).toEqual({ compared: 9, mismatches: 8, otherFailures: 1, timeouts: 1, samples: [0, 1, 2, 3, 4].map(sample) });
    const samples = Object.values(first.comparisons).flatMap((c) => c.samples);
    expect(samples).toHaveLength(MAX_SAMPLES_PER_REPORT);
    expect(Math.max(...Object.values(first.comparisons).map((c) => c.samples.length))).toBe(MAX_SAMPLES_PER_SLICE);
    sut.settle(first);
    // The samples that did not fit wait for the next report; the counts went with the first.
    const second = sut.take();
    expect(Object.values(second.comparisons).flatMap((c) => c.samples)).toHaveLength(6 * 5 - 20);
    expect(Object.values(second.comparisons).every((c) => c.compared === 0 && c.mismatches === 0)).toBe(true);
  });

  describe('which calls route times', () => {
    /** mulberry32: a seeded random for the recorder's draws, so a failure reproduces. */
    const seeded = (seed: number) => () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    /** Runs `calls` calls of `path` as route does: ask, then record timed (with `duration(i)`) or not. */
    const run = (recorder: OutcomeRecorder, path: 'NEW' | 'LEGACY', calls: number, duration: (i: number) => number, ok: (i: number) => boolean = () => true) => {
      let timed = 0;
      for (let i = 0; i < calls; i++) {
        const figures = recorder.figuresFor('busy')!;
        if (figures.timesNext(path)) {
          timed++;
          figures.recordTimed(path, ok(i), duration(i));
        } else figures.recordUntimed(path, ok(i));
      }
      return timed;
    };

    it('times every call of a quiet path, and a 1-in-16 random sample beyond the first 1,000 between reports', () => {
      const recorder = new OutcomeRecorder(seeded(1));
      expect(run(recorder, 'NEW', EXACT_CALLS_PER_REPORT, () => 1)).toBe(EXACT_CALLS_PER_REPORT);
      expect(run(recorder, 'LEGACY', 10, () => 1)).toBe(10); // each path has its own budget
      const beyond = run(recorder, 'NEW', 160_000, () => 1);
      expect(beyond / 160_000).toBeGreaterThan(0.9 / TIMED_ONE_IN);
      expect(beyond / 160_000).toBeLessThan(1.1 / TIMED_ONE_IN);
      // A report taken: every call timed again, up to the budget.
      recorder.take();
      expect(run(recorder, 'NEW', EXACT_CALLS_PER_REPORT, () => 1)).toBe(EXACT_CALLS_PER_REPORT);
      expect(run(recorder, 'NEW', 1_000, () => 1)).toBeLessThan(200);
    });

    it('counts every call and failure, sums the histogram to the calls, and estimates the durations without bias', () => {
      // Durations from two modes, 90 % at 2 ms and 10 % at 50 ms, in random order; failures every 7th call.
      const random = seeded(2);
      const recorder = new OutcomeRecorder(seeded(3));
      const calls = 200_000;
      const durations = Array.from({ length: calls }, () => (random() < 0.1 ? 50 : 2));
      run(
        recorder,
        'NEW',
        calls,
        (i) => durations[i]!,
        (i) => i % 7 !== 0,
      );
      const figures = recorder.take().outcomes.busy!.NEW!;
      expect(figures.calls).toBe(calls);
      expect(figures.failures).toBe(Math.ceil(calls / 7));
      expect(figures.latency.buckets.reduce((sum, [, count]) => sum + count, 0)).toBe(calls);
      expect(figures.latency.buckets.map(([bucket]) => bucket)).toEqual([latencyBucketOf(2), latencyBucketOf(50)]);
      // The share of the slow mode: 10 %, and what the histogram says, within sampling error
      // (about 12,000 timed calls: a standard error of 0.3 points).
      const slowTrue = durations.filter((d) => d === 50).length / calls;
      const slowShown = figures.latency.buckets[1]![1] / calls;
      expect(Math.abs(slowShown - slowTrue)).toBeLessThan(0.015);
    });

    it('does not depend on how calls go: slow calls after fast ones are not under-counted', () => {
      // A path whose every 16th call is slow (a pattern in step with the mean gap): systematic
      // sampling could see none or all of them; random gaps see about 1 in 16.
      const recorder = new OutcomeRecorder(seeded(4));
      run(recorder, 'LEGACY', 320_000, (i) => (i % 16 === 0 ? 40 : 1));
      const buckets = new Map(recorder.take().outcomes.busy!.LEGACY!.latency.buckets);
      expect(Math.abs(buckets.get(latencyBucketOf(40))! / 320_000 - 1 / 16)).toBeLessThan(0.01);
    });
  });

  it('takes only the slices a filter accepts (the watched slices report)', () => {
    sut.record('watched', 'NEW', true, 1);
    sut.record('other', 'NEW', true, 1);
    const batch = sut.take((key) => key === 'watched');
    expect(Object.keys(batch.outcomes)).toEqual(['watched']);
    sut.settle(batch);
    expect(Object.keys(sut.take().outcomes)).toEqual(['other']);
  });
});
