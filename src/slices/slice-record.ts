import type { SliceDefinition, SliceState, TargetingDefinition } from '@switchyard/client-sdk/core';
import type { SliceEntity } from './slice.entity.js';

/** Targeting as stored in `slices.targeting`: exactly the decision core's shape. */
export type StoredTargeting = TargetingDefinition;

export const EMPTY_TARGETING: StoredTargeting = { include: [], exclude: [], rules: [] };

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
    version: e.version,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Every segment key a targeting names, once each. */
export function segmentKeysOf(targeting: StoredTargeting): string[] {
  return [...new Set([...targeting.exclude, ...targeting.include, ...targeting.rules.flatMap((r) => r.segments)])];
}

/** What the decision core needs of a slice. */
export function toSliceDefinition(r: SliceRecord): SliceDefinition {
  return { key: r.key, state: r.state, basisPoints: r.basisPoints, stickinessAttribute: r.stickinessAttribute, targeting: r.targeting };
}
