/**
 * How many of a slice's recent decisions each segment it names covered (docs/segment-rollback.md,
 * "Coverage"): from the SDKs' sampled decisions (segment_coverage_buckets) and the slice's
 * decisions over the same window (traffic_buckets). Pure: no Nest, no I/O.
 *
 * The share is the sample's in-segment fraction, with its Wilson 95 % interval
 * (outcome-statistics.ts); the estimate is that share of the slice's decisions. The sample comes
 * only from SDKs that send coverage (this SDK since segmentCoverage; not older ones, not Unleash
 * SDKs): it stands for their decisions, and the estimate assumes the others' subjects are alike.
 */
import { type Interval, wilsonInterval } from './outcome-statistics.js';

export interface CoverageSums {
  readonly sampled: number;
  readonly inSegment: number;
}

export interface SegmentCoverageFigures {
  readonly segmentKey: string;
  /** False with no sampled decision in the window (old SDKs, Unleash SDKs, no traffic, a segment newly named). */
  readonly measured: boolean;
  readonly sampled: number;
  readonly inSegment: number;
  /** inSegment / sampled with its interval; null when not measured. */
  readonly share: Interval | null;
  /** The slice's decisions over the window (every SDK's). */
  readonly decisions: number;
  /** share × decisions, with the interval's bounds × decisions; null when not measured. */
  readonly estimatedDecisions: Interval | null;
}

/**
 * The segment keys a slice's configuration names, each once, sorted: its include, exclude and
 * rules' segments and the segments rolled back on it (what the SDK samples: CompiledSnapshot.namedSegments).
 */
export function namedSegmentsOf(slice: {
  readonly targeting: { readonly include: readonly string[]; readonly exclude: readonly string[]; readonly rules: readonly { readonly segments: readonly string[] }[] };
  readonly rolledBackSegments: readonly string[];
}): string[] {
  const keys = new Set<string>([...slice.targeting.include, ...slice.targeting.exclude, ...slice.rolledBackSegments]);
  for (const rule of slice.targeting.rules) for (const key of rule.segments) keys.add(key);
  return [...keys].sort();
}

/** One entry per segment in `segmentKeys`, in that order. */
export function segmentCoverageOf(segmentKeys: readonly string[], sums: ReadonlyMap<string, CoverageSums>, decisions: number): SegmentCoverageFigures[] {
  return segmentKeys.map((segmentKey) => {
    const s = sums.get(segmentKey);
    const sampled = s?.sampled ?? 0;
    const inSegment = Math.min(s?.inSegment ?? 0, sampled);
    const share = wilsonInterval(inSegment, sampled);
    return {
      segmentKey,
      measured: share !== null,
      sampled,
      inSegment,
      share,
      decisions,
      estimatedDecisions: share === null ? null : { estimate: share.estimate * decisions, low: share.low * decisions, high: share.high * decisions },
    };
  });
}
