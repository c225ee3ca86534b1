/**
 * Untrusted reporters (docs/plan-statistics.md, "Reporters"): which figures are refused, which
 * reporters belong to a follower, how much of the evidence minimum one reporter may supply, and the
 * pooled figures. Pure.
 */
import { isLatencyBucket, mergeSparse, type SparseHistogram } from '@switchyard/client-sdk/core';
import type { PathEvidence, ReporterEvidence } from './contract.js';

/** One path's figures after checking: integers, 0 ≤ failures ≤ calls, a valid histogram (or none). */
export interface CleanPath {
  readonly calls: number;
  readonly failures: number;
  readonly latency: SparseHistogram;
}

export interface CleanReporter {
  readonly reporter: string;
  /** The app the reporter belongs to: the instance's app, or the reporter itself. */
  readonly app: string;
  /** An instance's figures (`app/instance`), not an app's. */
  readonly instance: boolean;
  readonly follows: boolean;
  readonly legacy: CleanPath;
  readonly next: CleanPath;
  readonly compared: number;
  readonly mismatches: number;
  readonly decisions: number;
  readonly newDecisions: number;
}

export interface Reporters {
  readonly accepted: readonly CleanReporter[];
  /** Reporters whose figures were refused (not counts: NaN, negative, fractional, beyond 2^53, failures > calls...). */
  readonly refused: readonly string[];
}

/**
 * Whether a count can be used: a non-negative safe integer. Anything else (NaN, Infinity, -1, 1.5,
 * 1e300) refuses the reporter's figures as a whole: the runner validates reports before, so such a
 * figure is a bug or an attack, and no part of it is believed.
 */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A histogram is used only if it is log2pct-v1 (buckets increasing, counts positive) and sums to the calls; otherwise it is dropped (the path's calls still count). */
function cleanHistogram(histogram: unknown, calls: number): SparseHistogram {
  if (!Array.isArray(histogram)) return [];
  let previous = -1;
  let sum = 0;
  for (const pair of histogram as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return [];
    const [bucket, count] = pair as [unknown, unknown];
    if (!isLatencyBucket(bucket) || bucket <= previous || !isCount(count) || count === 0) return [];
    previous = bucket;
    sum += count;
  }
  return sum === calls ? (histogram as SparseHistogram) : [];
}

function cleanPath(path: PathEvidence | undefined): CleanPath | null {
  if (path === null || typeof path !== 'object') return null;
  const { calls, failures } = path;
  if (!isCount(calls) || !isCount(failures) || failures > calls) return null;
  return { calls, failures, latency: cleanHistogram(path.latency, calls) };
}

/** Checks every reporter's figures; a reporter named twice keeps its first entry (the second is refused). */
export function checkReporters(evidence: readonly ReporterEvidence[] | undefined, followers: readonly string[] | undefined): Reporters {
  const followerList: readonly unknown[] = Array.isArray(followers) ? (followers as readonly unknown[]) : [];
  const following = new Set(followerList.filter((f): f is string => typeof f === 'string'));
  const accepted: CleanReporter[] = [];
  const refused: string[] = [];
  const seen = new Set<string>();
  const entries: readonly unknown[] = Array.isArray(evidence) ? (evidence as readonly unknown[]) : [];
  for (const raw of entries) {
    const entry: Partial<ReporterEvidence> | null = raw !== null && typeof raw === 'object' ? raw : null;
    const name = typeof entry?.reporter === 'string' ? entry.reporter : '(unnamed)';
    if (seen.has(name)) {
      refused.push(name);
      continue;
    }
    seen.add(name);
    const legacy = cleanPath(entry?.legacy);
    const next = cleanPath(entry?.next);
    const { compared, mismatches, decisions, newDecisions } = entry ?? {};
    if (
      legacy === null ||
      next === null ||
      !isCount(compared) ||
      !isCount(mismatches) ||
      mismatches > compared ||
      !isCount(decisions) ||
      !isCount(newDecisions) ||
      newDecisions > decisions
    ) {
      refused.push(name);
      continue;
    }
    const instance = typeof entry?.app === 'string' && entry.app.length > 0;
    const app = instance ? entry.app : name;
    accepted.push({ reporter: name, app, instance, follows: following.has(app), legacy, next, compared, mismatches, decisions, newDecisions });
  }
  return { accepted, refused };
}

/** The figures of several reporters added up (histograms merged bucket by bucket, exactly). */
export interface Pooled {
  readonly legacy: CleanPath;
  readonly next: CleanPath;
  readonly compared: number;
  readonly mismatches: number;
  readonly decisions: number;
  readonly newDecisions: number;
}

function poolPaths(paths: readonly CleanPath[]): CleanPath {
  let calls = 0;
  let failures = 0;
  for (const p of paths) {
    calls += p.calls;
    failures += p.failures;
  }
  return { calls, failures, latency: mergeSparse(paths.map((p) => p.latency)) };
}

export function pool(reporters: readonly CleanReporter[]): Pooled {
  let compared = 0;
  let mismatches = 0;
  let decisions = 0;
  let newDecisions = 0;
  for (const r of reporters) {
    compared += r.compared;
    mismatches += r.mismatches;
    decisions += r.decisions;
    newDecisions += r.newDecisions;
  }
  return { legacy: poolPaths(reporters.map((r) => r.legacy)), next: poolPaths(reporters.map((r) => r.next)), compared, mismatches, decisions, newDecisions };
}

/**
 * The evidence toward a minimum (NEW calls, comparisons), counting followers' reporters only.
 * Reporters are apps, or `app/instance` where the service keeps per-instance figures (watched
 * slices). Two caps, each at `maxShare` of the minimum:
 *  - each reporter (an instance, or what an app reported beyond its instances' figures), when the
 *    followers' reporters include two or more instances (`app/instance`): no single pod makes the
 *    minimum by itself. An app's remainder does not count toward the two (it is not an instance:
 *    reports from before the slice was watched would otherwise cap a lone pod for good);
 *  - each app (its reporters together), when two or more apps follow.
 * With one follower app with one reporter, it may make the minimum alone.
 */
export function cappedEvidence(values: readonly { reporter: CleanReporter; value: number }[], minimum: number, followerApps: number, maxShare: number): number {
  const cap = Math.ceil(minimum * maxShare);
  const counted = values.filter((v) => v.reporter.follows);
  const reporterCap = instancesIn(counted) > 1 ? cap : Infinity;
  const appCap = followerApps > 1 ? cap : Infinity;
  const perApp = new Map<string, number>();
  for (const { reporter, value } of counted) {
    perApp.set(reporter.app, (perApp.get(reporter.app) ?? 0) + Math.min(value, reporterCap));
  }
  let total = 0;
  for (const value of perApp.values()) total += Math.min(value, appCap);
  return total;
}

/** Whether a cap of cappedEvidence bit: some follower's reporter, or app, holds more than `maxShare` of the minimum while its cap applies. */
export function capBites(values: readonly { reporter: CleanReporter; value: number }[], minimum: number, followerApps: number, maxShare: number): boolean {
  const limit = minimum * maxShare;
  const counted = values.filter((v) => v.reporter.follows);
  if (instancesIn(counted) > 1 && counted.some((v) => v.value > limit)) return true;
  if (followerApps <= 1) return false;
  const perApp = new Map<string, number>();
  for (const { reporter, value } of counted) perApp.set(reporter.app, (perApp.get(reporter.app) ?? 0) + value);
  return [...perApp.values()].some((v) => v > limit);
}

/** How many of these reporters are instances (`app/instance`), not apps. */
function instancesIn(values: readonly { reporter: CleanReporter }[]): number {
  return values.filter((v) => v.reporter.instance).length;
}
