/**
 * How many of a slice's decisions fell in each segment its configuration names (targeting and
 * rolled-back segments), on a sample of decisions: what the console shows next to a segment
 * rollback ("covered about N of the last M decisions", docs/segment-rollback.md).
 *
 * Sampling is a countdown kept by the client (one decrement per decision; when it reaches 0 the
 * decision, whatever its slice, is sampled, and the next gap is drawn from 1..127, mean
 * COVERAGE_SAMPLE_EVERY, so that periodic traffic is not sampled on one phase only; with the
 * injected random fixed at 0.5, as in tests, every 64th decision exactly). A sampled decision
 * evaluates each named segment with the predicate the decision itself uses
 * (CompiledSnapshot.inSegment); the other decisions pay the decrement only.
 *
 * Memory is bounded: at most MAX_COVERAGE_SLICES slices (valid slice keys only), and per slice at
 * most MAX_COVERAGE_SEGMENTS segments (the first ones its configuration names). Like the outcome
 * recorder, `take` copies and `settle` subtracts what was taken once the service accepted (or
 * refused for good) the report: the figures are always "since the last accepted report".
 */
import { SLICE_KEY_PATTERN } from '../core/index.js';

/** One decision in this many is sampled, on average. */
export const COVERAGE_SAMPLE_EVERY = 64;
/** Slices recorded at most (as outcomes: MAX_OUTCOME_SLICES). */
export const MAX_COVERAGE_SLICES = 1_000;
/** Segments per slice recorded at most; the service refuses more. */
export const MAX_COVERAGE_SEGMENTS = 64;

/** What a report carries for one slice: sampled decisions, and per named segment how many were in it. */
export interface SliceCoverage {
  readonly sampled: number;
  readonly segments: Readonly<Record<string, number>>;
}

/** `segmentCoverage` of a usage report: per slice key. */
export type CoverageBatch = Readonly<Record<string, SliceCoverage>>;

interface HeldCoverage {
  sampled: number;
  readonly segments: Map<string, number>;
}

export class SegmentCoverageRecorder {
  private readonly slices = new Map<string, HeldCoverage>();

  /**
   * One sampled decision on `slice`, whose configuration names `segmentKeys`; `inSegment` says
   * whether the subject is in one. A slice that names no segment is not recorded.
   */
  record(slice: string, segmentKeys: readonly string[], inSegment: (segmentKey: string) => boolean): void {
    if (segmentKeys.length === 0) return;
    let held = this.slices.get(slice);
    if (held === undefined) {
      if (typeof slice !== 'string' || !SLICE_KEY_PATTERN.test(slice) || this.slices.size >= MAX_COVERAGE_SLICES) return;
      held = { sampled: 0, segments: new Map() };
      this.slices.set(slice, held);
    }
    held.sampled++;
    const n = Math.min(segmentKeys.length, MAX_COVERAGE_SEGMENTS);
    for (let i = 0; i < n; i++) {
      const key = segmentKeys[i]!;
      const inIt = inSegment(key) ? 1 : 0;
      const before = held.segments.get(key);
      if (before === undefined) {
        // A segment the slice names later than others: bounded like the rest.
        if (held.segments.size >= MAX_COVERAGE_SEGMENTS) continue;
        held.segments.set(key, inIt);
      } else if (inIt === 1) held.segments.set(key, before + 1);
    }
  }

  /** What is held, for a report (only the slices `include` accepts, with it): a copy; nothing is reset. */
  take(include?: (slice: string) => boolean): CoverageBatch {
    const out = Object.create(null) as Record<string, SliceCoverage>;
    for (const [slice, held] of this.slices) {
      if (held.sampled === 0 || (include !== undefined && !include(slice))) continue;
      const segments = Object.create(null) as Record<string, number>;
      for (const [key, n] of held.segments) segments[key] = n;
      out[slice] = { sampled: held.sampled, segments };
    }
    return out;
  }

  /** Subtracts what `take` gave once the report is accepted or refused for good; emptied slices are forgotten. */
  settle(batch: CoverageBatch): void {
    for (const slice of Object.keys(batch)) {
      const held = this.slices.get(slice);
      if (held === undefined) continue;
      const taken = batch[slice]!;
      held.sampled = Math.max(0, held.sampled - taken.sampled);
      for (const key of Object.keys(taken.segments)) {
        const left = Math.max(0, (held.segments.get(key) ?? 0) - taken.segments[key]!);
        held.segments.set(key, left);
      }
      if (held.sampled === 0) this.slices.delete(slice);
    }
  }
}
