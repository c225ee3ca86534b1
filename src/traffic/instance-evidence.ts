/**
 * Per-instance figures of watched slices, held between two writes (docs/plans.md, "Reporters"):
 * the outcome tables are per app, so a plan could not tell one pod's figures from its app's; these
 * cells keep them per instance, for the slices under a plan only, so that the plan can cap each
 * instance's share of a step's evidence.
 *
 * Fed by TrafficIngestService's report hook with reports already validated, found plausible and
 * admitted (instance-admission.ts bounds how many instances an app or token can make it record).
 * Bounded on its own too: at most `maxCells` cells (slice, minute, app, instance) between two
 * writes; a report that would need more is not kept here (counted in `dropped`; the app-level
 * figures still have it, and the plan then sees fewer instance figures: less evidence, never more).
 *
 * Pure: no I/O, no timers.
 */
import type { PathCounts, ComparisonReport, SliceOutcomeReport, PathOutcomeReport } from './traffic-report.js';

/** What the ingest hook hands over: one report, as taken (known slices only). */
export interface TakenReport {
  readonly appName: string;
  readonly instanceId: string;
  /** The minute the report's figures are counted in (as the app-level buckets count them). */
  readonly bucketStart: number;
  readonly slices: ReadonlyMap<string, PathCounts>;
  readonly outcomes: ReadonlyMap<string, SliceOutcomeReport>;
  readonly comparisons: ReadonlyMap<string, ComparisonReport>;
}

export interface InstancePathSums {
  calls: number;
  failures: number;
  /** log2pct-v1 bucket to count. */
  readonly latency: Map<number, number>;
}

/** One instance's figures for one slice in one minute. Counts are sums of safe integers, kept safe (saturating). */
export interface InstanceCell {
  readonly sliceKey: string;
  readonly bucketStart: number;
  readonly appName: string;
  readonly instanceId: string;
  readonly next: InstancePathSums;
  readonly legacy: InstancePathSums;
  compared: number;
  mismatches: number;
  newDecisions: number;
  legacyDecisions: number;
}

export const DEFAULT_MAX_INSTANCE_CELLS = 20_000;

const add = (a: number, b: number) => Math.min(Number.MAX_SAFE_INTEGER, a + b);
const emptyPath = (): InstancePathSums => ({ calls: 0, failures: 0, latency: new Map() });

export class InstanceEvidenceBuffer {
  private cells = new Map<string, InstanceCell>();
  private droppedReports = 0;

  constructor(private readonly maxCells: number = DEFAULT_MAX_INSTANCE_CELLS) {}

  get size(): number {
    return this.cells.size;
  }

  /** Reports not kept because the buffer was full (since start). */
  get dropped(): number {
    return this.droppedReports;
  }

  /**
   * Adds the report's figures for the slices in `watched`; the others are ignored. Latency
   * histograms only for the slices in `latency` (a plan with a latency gate: their one reader);
   * the others keep counts only. All or nothing: a report that would need more cells than are
   * left is not kept at all.
   */
  add(report: TakenReport, watched: ReadonlySet<string>, latency: ReadonlySet<string> = watched): void {
    const keys = new Set<string>();
    for (const map of [report.slices, report.outcomes, report.comparisons] as ReadonlyMap<string, unknown>[]) for (const key of map.keys()) if (watched.has(key)) keys.add(key);
    if (keys.size === 0) return;
    const keyOf = (sliceKey: string) => JSON.stringify([sliceKey, report.bucketStart, report.appName, report.instanceId]);
    let fresh = 0;
    for (const sliceKey of keys) if (!this.cells.has(keyOf(sliceKey))) fresh++;
    if (this.cells.size + fresh > this.maxCells) {
      this.droppedReports++;
      return;
    }
    for (const sliceKey of keys) {
      const key = keyOf(sliceKey);
      let cell = this.cells.get(key);
      if (cell === undefined) {
        cell = {
          sliceKey,
          bucketStart: report.bucketStart,
          appName: report.appName,
          instanceId: report.instanceId,
          next: emptyPath(),
          legacy: emptyPath(),
          compared: 0,
          mismatches: 0,
          newDecisions: 0,
          legacyDecisions: 0,
        };
        this.cells.set(key, cell);
      }
      const decisions = report.slices.get(sliceKey);
      if (decisions !== undefined) {
        cell.newDecisions = add(cell.newDecisions, decisions.NEW);
        cell.legacyDecisions = add(cell.legacyDecisions, decisions.LEGACY);
      }
      const outcome = report.outcomes.get(sliceKey);
      const histograms = latency.has(sliceKey);
      if (outcome?.NEW !== undefined) addPath(cell.next, outcome.NEW, histograms);
      if (outcome?.LEGACY !== undefined) addPath(cell.legacy, outcome.LEGACY, histograms);
      const comparison = report.comparisons.get(sliceKey);
      if (comparison !== undefined) {
        cell.compared = add(cell.compared, comparison.compared);
        cell.mismatches = add(cell.mismatches, comparison.mismatches);
      }
    }
  }

  /** Everything held, in primary-key order (the writer's lock order); the buffer is then empty. */
  drain(): InstanceCell[] {
    const cells = [...this.cells.values()];
    this.cells = new Map();
    return cells.sort((a, b) => cmp(a.sliceKey, b.sliceKey) || a.bucketStart - b.bucketStart || cmp(a.appName, b.appName) || cmp(a.instanceId, b.instanceId));
  }

  /** Puts back cells a write could not take (the database away), as far as they fit; returns how many were lost. */
  restore(cells: readonly InstanceCell[]): number {
    let lost = 0;
    for (const cell of cells) {
      const key = JSON.stringify([cell.sliceKey, cell.bucketStart, cell.appName, cell.instanceId]);
      const held = this.cells.get(key);
      if (held === undefined) {
        if (this.cells.size >= this.maxCells) {
          lost++;
          continue;
        }
        this.cells.set(key, cell);
        continue;
      }
      mergePath(held.next, cell.next);
      mergePath(held.legacy, cell.legacy);
      held.compared = add(held.compared, cell.compared);
      held.mismatches = add(held.mismatches, cell.mismatches);
      held.newDecisions = add(held.newDecisions, cell.newDecisions);
      held.legacyDecisions = add(held.legacyDecisions, cell.legacyDecisions);
    }
    return lost;
  }
}

function addPath(into: InstancePathSums, path: PathOutcomeReport, histogram: boolean): void {
  into.calls = add(into.calls, path.calls);
  into.failures = add(into.failures, path.failures);
  if (histogram) for (const [bucket, count] of path.latency) into.latency.set(bucket, add(into.latency.get(bucket) ?? 0, count));
}

function mergePath(into: InstancePathSums, from: InstancePathSums): void {
  into.calls = add(into.calls, from.calls);
  into.failures = add(into.failures, from.failures);
  for (const [bucket, count] of from.latency) into.latency.set(bucket, add(into.latency.get(bucket) ?? 0, count));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
