import { Injectable } from '@nestjs/common';
import { OutcomesRepository } from '../traffic/outcomes.repository.js';
import type { PathEvidence, ReporterEvidence, StepInput } from './evaluation/contract.js';
import { recentWindowStart } from './evaluation/evaluate-step.js';
import type { PlanRecord } from './plan-record.js';

const MINUTE_MS = 60_000;
/** An app follows the slice when one of its instances reported the slice this recently. */
export const FOLLOWING_WITHIN_MS = 10 * MINUTE_MS;

/** The minutes whose reports a look weighs: [from, until), as stored (outcome and traffic buckets are per minute). */
export interface EvidenceInterval {
  readonly from: string;
  readonly until: string;
}

/**
 * What a RUNNING plan's current step has to show, read from the reports the services sent (per
 * app: the unit reports can be attributed to), since the minute the step started up to the
 * current minute included, by the service's clock: outcomes of both paths, shadow comparisons,
 * decisions (the observed NEW share), and the apps following the slice. The minute the step
 * started may hold a few reports from the step before: the cost of per-minute buckets, on the safe
 * side for every gate (the previous step exposed fewer subjects to NEW).
 */
@Injectable()
export class PlanEvidence {
  constructor(private readonly outcomes: OutcomesRepository) {}

  async gather(plan: PlanRecord, now: number): Promise<{ input: StepInput; interval: EvidenceInterval }> {
    const step = plan.steps[plan.currentStep]!;
    const startedAt = Date.parse(plan.stepStartedAt ?? new Date(now).toISOString());
    const from = new Date(minuteOf(startedAt));
    const until = new Date(minuteOf(now) + MINUTE_MS);
    // The failure-rate gate's recent window: the last recentWindowMinutes minutes of the step (the
    // current one included), read by the same statement as the whole step's sums.
    const startMinute = recentWindowStart(now - startedAt, startedAt - from.getTime());
    const recentFrom = new Date(from.getTime() + startMinute * MINUTE_MS);
    const [sums, traffic] = await Promise.all([
      this.outcomes.sums(plan.sliceKey, from, until, null, recentFrom),
      this.outcomes.decisionsAndFollowers(plan.sliceKey, from, until, new Date(now - FOLLOWING_WITHIN_MS)),
    ]);
    const apps = new Map<string, { legacy: MutablePath; next: MutablePath; compared: number; mismatches: number; decisions: number; newDecisions: number }>();
    const of = (app: string) => {
      let e = apps.get(app);
      if (e === undefined) {
        e = { legacy: emptyPath(), next: emptyPath(), compared: 0, mismatches: 0, decisions: 0, newDecisions: 0 };
        apps.set(app, e);
      }
      return e;
    };
    const recent = new Map<string, { legacy: MutablePath; next: MutablePath }>();
    for (const p of sums.paths) {
      const path = p.path === 'NEW' ? of(p.appName).next : of(p.appName).legacy;
      path.calls += p.calls;
      path.failures += p.failures;
      let r = recent.get(p.appName);
      if (r === undefined) {
        r = { legacy: emptyPath(), next: emptyPath() };
        recent.set(p.appName, r);
      }
      const recentPath = p.path === 'NEW' ? r.next : r.legacy;
      recentPath.calls += p.recentCalls;
      recentPath.failures += p.recentFailures;
    }
    for (const l of sums.latency) (l.path === 'NEW' ? of(l.appName).next : of(l.appName).legacy).latency.push([l.bucket, l.count]);
    for (const c of sums.comparisons) {
      const e = of(c.appName);
      e.compared += c.compared;
      e.mismatches += c.mismatches;
    }
    for (const d of traffic.decisions) {
      const e = of(d.appName);
      e.decisions += d.new + d.legacy;
      e.newDecisions += d.new;
    }
    const evidence: ReporterEvidence[] = [...apps.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([reporter, e]) => ({
        reporter,
        legacy: frozen(e.legacy),
        next: frozen(e.next),
        compared: e.compared,
        mismatches: e.mismatches,
        decisions: e.decisions,
        newDecisions: e.newDecisions,
      }));
    return {
      input: {
        step: { basisPoints: step.basisPoints, minDurationMs: step.minDurationMs, minNewCalls: step.minNewCalls, minComparisons: step.minComparisons },
        gates: plan.gates,
        elapsedMs: Math.max(0, now - startedAt),
        evidence,
        followers: traffic.followers,
        recent: {
          startMinute,
          evidence: [...recent.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([reporter, r]) => ({ reporter, legacy: frozen(r.legacy), next: frozen(r.next), compared: 0, mismatches: 0, decisions: 0, newDecisions: 0 })),
        },
      },
      interval: { from: from.toISOString(), until: until.toISOString() },
    };
  }
}

interface MutablePath {
  calls: number;
  failures: number;
  latency: [number, number][];
}

const emptyPath = (): MutablePath => ({ calls: 0, failures: 0, latency: [] });
const frozen = (p: MutablePath): PathEvidence => ({ calls: p.calls, failures: p.failures, latency: [...p.latency].sort((a, b) => a[0] - b[0]) });
const minuteOf = (ms: number) => ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
