import { Injectable } from '@nestjs/common';
import { InstanceEvidenceRepository } from '../traffic/instance-evidence.repository.js';
import { OutcomesRepository } from '../traffic/outcomes.repository.js';
import type { PathEvidence, ReporterEvidence, StepInput } from './evaluation/contract.js';
import { recentWindowStart } from './evaluation/evaluate-step.js';
import type { PlanRecord } from './plan-record.js';

const MINUTE_MS = 60_000;
/** An app follows the slice when one of its instances reported the slice this recently. */
export const FOLLOWING_WITHIN_MS = 10 * MINUTE_MS;
/**
 * At most this many instances are weighed one by one (those with the most NEW calls); what the
 * others reported stays in their app's remainder (`app`, see PlanEvidence). Bounds the look's
 * cost, the per-reporter tests and the history row against random instance ids.
 */
export const MAX_INSTANCE_REPORTERS = 200;

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
  constructor(
    private readonly outcomes: OutcomesRepository,
    private readonly instances: InstanceEvidenceRepository,
  ) {}

  async gather(plan: PlanRecord, now: number): Promise<{ input: StepInput; interval: EvidenceInterval }> {
    const step = plan.steps[plan.currentStep]!;
    const startedAt = Date.parse(plan.stepStartedAt ?? new Date(now).toISOString());
    const from = new Date(minuteOf(startedAt));
    const until = new Date(minuteOf(now) + MINUTE_MS);
    // The failure-rate gate's recent window: the last recentWindowMinutes minutes of the step (the
    // current one included), read by the same statement as the whole step's sums.
    const startMinute = recentWindowStart(now - startedAt, startedAt - from.getTime());
    const recentFrom = new Date(from.getTime() + startMinute * MINUTE_MS);
    // Histograms only for a latency gate, their one reader: they are most of what a look reads
    // (every app's and up to 200 instances' buckets), and a look follows every flush of the slice's outcomes.
    const latency = plan.gates.latency !== undefined;
    const [{ sums, ...traffic }, perInstance] = await Promise.all([
      this.outcomes.planEvidence(plan.sliceKey, from, until, recentFrom, new Date(now - FOLLOWING_WITHIN_MS), latency),
      this.instances.sums(plan.sliceKey, from, until, MAX_INSTANCE_REPORTERS, latency),
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
    // Per-instance figures (watched slices): each instance is a reporter `app/instance`, and the
    // app keeps as `app` only what its instances' figures do not account for (reports from before
    // the slice was watched, Unleash SDKs' decisions, instances beyond MAX_INSTANCE_REPORTERS, or a
    // write of one table ahead of the other's), never below zero.
    // Kept apart from the apps (keyed by app and instance, not by the shown name): an app's name
    // may hold a '/', and "a/b" the app is not instance b of app a.
    const instances = new Map<string, { app: string; name: string; e: ReturnType<typeof of> }>();
    for (const i of perInstance) {
      const app = of(i.appName);
      const key = JSON.stringify([i.appName, i.instanceId]);
      let entry = instances.get(key);
      if (entry === undefined) {
        entry = { app: i.appName, name: `${i.appName}/${i.instanceId}`, e: { legacy: emptyPath(), next: emptyPath(), compared: 0, mismatches: 0, decisions: 0, newDecisions: 0 } };
        instances.set(key, entry);
      }
      const own = entry.e;
      moveInto(app.next, own.next, i.next);
      moveInto(app.legacy, own.legacy, i.legacy);
      const compared = Math.min(i.compared, app.compared);
      own.compared += i.compared;
      own.mismatches += i.mismatches;
      app.compared -= compared;
      app.mismatches = Math.max(0, Math.min(app.mismatches - i.mismatches, app.compared));
      own.decisions += i.newDecisions + i.legacyDecisions;
      own.newDecisions += i.newDecisions;
      app.decisions = Math.max(0, app.decisions - i.newDecisions - i.legacyDecisions);
      app.newDecisions = Math.max(0, Math.min(app.newDecisions - i.newDecisions, app.decisions));
    }
    const reporters = [
      ...[...apps.entries()].map(([name, e]) => ({ name, app: undefined as string | undefined, e })),
      ...[...instances.values()].map(({ app, name, e }) => ({ name, app: app, e })),
    ].filter((r) => hasFigures(r.e));
    const evidence: ReporterEvidence[] = reporters
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ name: reporter, app, e }) => ({
        reporter,
        ...(app === undefined ? {} : { app }),
        legacy: frozen(e.legacy),
        next: frozen(e.next),
        compared: e.compared,
        mismatches: e.mismatches,
        decisions: e.decisions,
        newDecisions: e.newDecisions,
      }));
    const baseline = step.basisPoints === 10_000 && plan.currentStep > 0 ? await this.baseline(plan, startedAt, latency) : undefined;
    return {
      input: {
        ...(baseline === undefined ? {} : { baseline }),
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

  /**
   * A step at 100 % has no LEGACY left to compare NEW with: LEGACY's figures (every app's) over the
   * step before, read as the minutes before this step started (and the minute it started), as many as that step's minimum
   * duration (at least 10), are the baseline the failure-rate and latency gates compare with.
   */
  private async baseline(plan: PlanRecord, startedAt: number, latency: boolean): Promise<PathEvidence> {
    const before = plan.steps[plan.currentStep - 1]!;
    // The minute the step started included: at 100 % its LEGACY calls are the step before's.
    const until = new Date(minuteOf(startedAt) + MINUTE_MS);
    const from = new Date(until.getTime() - Math.max(before.minDurationMs, 10 * MINUTE_MS));
    const sums = await this.outcomes.sums(plan.sliceKey, from, until, null, undefined, latency);
    const legacy = emptyPath();
    for (const p of sums.paths) {
      if (p.path !== 'LEGACY') continue;
      legacy.calls += p.calls;
      legacy.failures += p.failures;
    }
    const buckets = new Map<number, number>();
    for (const l of sums.latency) if (l.path === 'LEGACY') buckets.set(l.bucket, (buckets.get(l.bucket) ?? 0) + l.count);
    legacy.latency = [...buckets];
    return frozen(legacy);
  }
}

interface MutablePath {
  calls: number;
  failures: number;
  latency: [number, number][];
}

/** An instance's path figures into its own reporter, taken out of its app's remainder (never below zero; failures never above calls). */
function moveInto(app: MutablePath, own: MutablePath, figures: { calls: number; failures: number; latency: readonly (readonly [number, number])[] }): void {
  own.calls += figures.calls;
  own.failures += figures.failures;
  own.latency.push(...figures.latency.map(([b, c]) => [b, c] as [number, number]));
  app.calls = Math.max(0, app.calls - figures.calls);
  app.failures = Math.max(0, Math.min(app.failures - figures.failures, app.calls));
  const taken = new Map(figures.latency.map(([b, c]) => [b, c]));
  const left: [number, number][] = [];
  for (const [b, c] of app.latency) {
    const rest = c - (taken.get(b) ?? 0);
    if (rest > 0) left.push([b, rest]);
  }
  app.latency = left;
}

const hasFigures = (e: { legacy: MutablePath; next: MutablePath; compared: number; decisions: number }) =>
  e.legacy.calls > 0 || e.next.calls > 0 || e.compared > 0 || e.decisions > 0;

const emptyPath = (): MutablePath => ({ calls: 0, failures: 0, latency: [] });
const frozen = (p: MutablePath): PathEvidence => ({ calls: p.calls, failures: p.failures, latency: [...p.latency].sort((a, b) => a[0] - b[0]) });
const minuteOf = (ms: number) => ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
