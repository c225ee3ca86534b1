/**
 * Rollout shares: stored and compared as integer basis points (0..10000), shown as percents with at
 * most two decimals (0.00..100.00). Shared by the server (validation at save time) and the SDK.
 */

/** 100 %: every subject on NEW. */
export const MAX_BASIS_POINTS = 10000;

/** True when `value` is an integer number of basis points, 0..10000. */
export function isBasisPoints(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_BASIS_POINTS;
}

/**
 * Converts a percent with at most two decimals to basis points: `0.25` → 25, `12.34` → 1234.
 *
 * @returns `null` when `percent` is not finite, outside 0..100, or has more than two decimals
 * (`0.125`): a share the line cannot represent is refused, never rounded silently.
 */
export function percentToBasisPoints(percent: number): number | null {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    return null;
  }
  // `percent * 100` may carry float error (0.29 * 100 = 28.999999999999996), so round; then the
  // input had at most two decimals iff it is the very double nearest to `bp / 100` (division is
  // correctly rounded, as is parsing the literal "0.29"), which refuses 0.125 and 12.345 exactly.
  const bp = Math.round(percent * 100);
  return bp / 100 === percent ? bp + 0 /* -0 → 0 */ : null;
}

/** Converts basis points to a percent: 25 → 0.25, 10000 → 100. */
export function basisPointsToPercent(basisPoints: number): number {
  return basisPoints / 100;
}
