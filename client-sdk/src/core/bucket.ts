/**
 * Where a subject sits on the 0..9999 rollout line, and which path that gives (DESIGN.md, step 6).
 *
 * `position(h) = (h % 100) * 100 + floor(h / 100) % 100`. The high part `h % 100` is exactly
 * Unleash's flexibleRollout bucket minus one, so at whole percents Switchyard and every official
 * Unleash SDK agree (NEW iff `h % 100 + 1 <= percent`); the low part splits each percent into 100
 * slots for sub-percent canaries. A subject's position depends only on the slice key and its id,
 * never on the percentage or the rule, so raising basis points only ever moves subjects to NEW.
 *
 * If you change this, every subject may change path: update the decision vectors deliberately.
 */

import type { Path } from './types.js';
import { MAX_BASIS_POINTS } from './basis-points.js';
import { hashWithPrefixInt32, murmur3, type HashPrefix } from './murmur3.js';

/** Number of positions on the rollout line: one per basis point. */
export const POSITIONS = MAX_BASIS_POINTS;

/**
 * The position (0..9999) of a hash on the rollout line.
 *
 * @param hash - an unsigned 32-bit MurmurHash3 value.
 */
export function positionOf(hash: number): number {
  return (hash % 100) * 100 + (Math.floor(hash / 100) % 100);
}

/**
 * The position of `stickinessValue` in the slice `sliceKey`: hashes `sliceKey + ":" + value`.
 * Convenience for tools and tests; the evaluator uses {@link positionWithPrefix}.
 */
export function positionFor(sliceKey: string, stickinessValue: string): number {
  return positionOf(murmur3(sliceKey + ':' + stickinessValue));
}

/**
 * The position of `stickinessValue`, continuing from the prepared state of `sliceKey + ":"`.
 * Allocates nothing.
 */
export function positionWithPrefix(prefix: HashPrefix, stickinessValue: string): number {
  // The unsigned hash never leaves this function, so it is never boxed (see murmur3's finishInt32).
  const hash = hashWithPrefixInt32(prefix, stickinessValue) >>> 0;
  return (hash % 100) * 100 + (Math.floor(hash / 100) % 100);
}

/**
 * The path for a subject at `position` when `basisPoints` of subjects are on NEW.
 * NEW iff `position < basisPoints`: 0 sends no one, 10000 everyone.
 */
export function pathAt(position: number, basisPoints: number): Path {
  return position < basisPoints ? 'NEW' : 'LEGACY';
}
