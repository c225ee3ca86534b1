import type { Constraint, SegmentDefinition } from '@switchyard/client-sdk/core';
import type { SegmentEntity } from './segment.entity.js';

/** A segment's complete configuration: history's before / after. Plain JSON. */
export interface SegmentRecord {
  readonly key: string;
  readonly description: string;
  readonly constraints: readonly Constraint[];
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toSegmentRecord(e: SegmentEntity): SegmentRecord {
  return {
    key: e.key,
    description: e.description,
    constraints: e.constraints.map(normalizeConstraint),
    version: e.version,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Every flag spelled out, so stored, hashed and served forms are identical. */
export function normalizeConstraint(c: Constraint): Constraint {
  return {
    attribute: c.attribute,
    operator: c.operator,
    values: [...c.values],
    inverted: c.inverted === true,
    caseInsensitive: c.caseInsensitive === true,
  };
}

export function toSegmentDefinition(r: SegmentRecord): SegmentDefinition {
  return { key: r.key, constraints: r.constraints };
}
