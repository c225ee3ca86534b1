import type { SliceDefinition, SliceState, TargetingDefinition } from '@switchyard/client-sdk/core';
import type { SliceEntity } from './slice.entity.js';

/** Targeting as stored in `slices.targeting`: exactly the decision core's shape. */
export type StoredTargeting = TargetingDefinition;

export const EMPTY_TARGETING: StoredTargeting = { include: [], exclude: [], rules: [] };

/** The observation settings of a slice that never set them (docs/outcomes.md, "Slice settings"). */
export const OBSERVATION_DEFAULTS = { watched: false, shadowBasisPoints: 0, mismatchThresholdPpm: 1000 } as const;
export const MAX_MISMATCH_THRESHOLD_PPM = 1_000_000;

/** A slice's observation settings, every one of them, defaults filled in. */
export interface ObservationSettings {
  readonly watched: boolean;
  /** 0..10000: the share of `compare` calls that also run the path not served. */
  readonly shadowBasisPoints: number;
  /** 0..1000000 parts per million of comparisons: at or under it, the mismatch rate is WITHIN. */
  readonly mismatchThresholdPpm: number;
}

/**
 * A slice's complete configuration: what the service works with, what history rows hold as
 * `before` / `after`, and what replaying history reproduces. Plain JSON (dates as ISO strings).
 */
export interface SliceRecord {
  readonly key: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: readonly string[];
  readonly stickinessAttribute: string;
  readonly basisPoints: number;
  readonly targeting: StoredTargeting;
  readonly state: SliceState;
  /**
   * Segments rolled back on this slice by an incident responder (`rollbackSegment`; docs/segment-
   * rollback.md), sorted, kept apart from `targeting` so that `resumeSegment` restores exactly the
   * decisions the targeting gives. Present only when not empty: history rows written before it
   * existed, and every slice that never had one, are recorded, hashed and served as before.
   */
  readonly rolledBackSegments?: readonly string[];
  /**
   * Observation settings, present only when not at their default (OBSERVATION_DEFAULTS; read them
   * with `observationOf`). History rows written before they existed lack them and mean the
   * defaults: omitting a default keeps every slice that never set one recorded, replayed and
   * compared (`change` writes nothing when nothing changed) exactly as before, and an idempotent
   * retry of an older change decodes to the same record.
   */
  readonly watched?: true;
  readonly shadowBasisPoints?: number;
  readonly mismatchThresholdPpm?: number;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toSliceRecord(e: SliceEntity): SliceRecord {
  return {
    key: e.key,
    description: e.description,
    owner: e.owner,
    tags: [...e.tags],
    stickinessAttribute: e.stickinessAttribute,
    basisPoints: e.basisPoints,
    targeting: {
      include: [...e.targeting.include],
      exclude: [...e.targeting.exclude],
      rules: e.targeting.rules.map((r) => ({ segments: [...r.segments], basisPoints: r.basisPoints })),
    },
    state: e.state,
    ...rolledBackSegmentsField(e.rolledBackSegments),
    ...observationFields({ watched: e.watched, shadowBasisPoints: e.shadowBasisPoints, mismatchThresholdPpm: e.mismatchThresholdPpm }),
    version: e.version,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** The settings with defaults filled in: what the entity stores and GraphQL shows. */
export function observationOf(r: SliceRecord): ObservationSettings {
  return {
    watched: r.watched === true,
    shadowBasisPoints: r.shadowBasisPoints ?? OBSERVATION_DEFAULTS.shadowBasisPoints,
    mismatchThresholdPpm: r.mismatchThresholdPpm ?? OBSERVATION_DEFAULTS.mismatchThresholdPpm,
  };
}

/** The record's members for these settings: each only when it is not at its default. */
export function observationFields(o: ObservationSettings): Pick<SliceRecord, 'watched' | 'shadowBasisPoints' | 'mismatchThresholdPpm'> {
  return {
    ...(o.watched ? { watched: true } : {}),
    ...(o.shadowBasisPoints !== OBSERVATION_DEFAULTS.shadowBasisPoints ? { shadowBasisPoints: o.shadowBasisPoints } : {}),
    ...(o.mismatchThresholdPpm !== OBSERVATION_DEFAULTS.mismatchThresholdPpm ? { mismatchThresholdPpm: o.mismatchThresholdPpm } : {}),
  };
}

/** The record's member for the rolled-back segments: sorted, deduplicated, absent when there is none. */
export function rolledBackSegmentsField(keys: readonly string[]): Pick<SliceRecord, 'rolledBackSegments'> {
  const sorted = [...new Set(keys)].sort();
  return sorted.length === 0 ? {} : { rolledBackSegments: sorted };
}

/** The segments rolled back on a slice (empty when none). */
export function rolledBackSegmentsOf(r: Pick<SliceRecord, 'rolledBackSegments'>): readonly string[] {
  return r.rolledBackSegments ?? [];
}

/**
 * Every segment a slice depends on, once each: its targeting's and its rolled-back ones. What
 * slice_segments holds (a segment in it cannot be deleted) and what the snapshot must carry.
 */
export function sliceSegmentKeys(r: Pick<SliceRecord, 'targeting' | 'rolledBackSegments'>): string[] {
  return [...new Set([...segmentKeysOf(r.targeting), ...rolledBackSegmentsOf(r)])];
}

/** Every segment key a targeting names, once each. */
export function segmentKeysOf(targeting: StoredTargeting): string[] {
  return [...new Set([...targeting.exclude, ...targeting.include, ...targeting.rules.flatMap((r) => r.segments)])];
}

/** What the decision core needs of a slice (observation settings do not change a decision). */
export function toSliceDefinition(r: SliceRecord): SliceDefinition {
  return {
    key: r.key,
    state: r.state,
    basisPoints: r.basisPoints,
    stickinessAttribute: r.stickinessAttribute,
    targeting: r.targeting,
    ...(r.rolledBackSegments !== undefined && r.rolledBackSegments.length > 0 ? { rolledBackSegments: r.rolledBackSegments } : {}),
  };
}
