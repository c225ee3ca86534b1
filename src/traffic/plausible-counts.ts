/**
 * How many decisions one SDK instance can plausibly report for the time a report covers.
 *
 * Reports are untrusted input, and later plans will ramp and roll back on them: one report must
 * not be able to outweigh a fleet, and nothing it claims may overflow anything downstream. The
 * rule is a rate ceiling per instance (SWITCHYARD_TRAFFIC_MAX_DECISIONS_PER_SECOND, summed over
 * all of its slices) times the span the report covers, clamped to [MIN_CEILING_SPAN_MS,
 * MAX_REPORT_SPAN_MS]. Each slice's decisions (NEW + LEGACY) and the report's total must stay at
 * or below it; a report over it is refused whole (a lie in one entry makes the others suspect).
 *
 * Only the span is taken from the reporter's clock (as for bucket placement, traffic-buffer.ts),
 * so a liar's best is "a day's worth at the ceiling rate" per report: bounded, and far below what
 * a bigint cell can hold (see MAX_CELL_COUNT). Pure; sums in bigint.
 */
import type { FieldViolation } from '../common/errors/switchyard.exception.js';
import { MAX_REPORT_SPAN_MS } from './traffic-buffer.js';
import type { PathCounts } from './traffic-report.js';

/**
 * The shortest span the ceiling assumes: reports sent right after another (at a new revision, at
 * close) cover milliseconds, and host clocks tick coarsely; a second at the ceiling rate is still
 * a bounded claim.
 */
export const MIN_CEILING_SPAN_MS = 1_000;

/** At most this many violations are listed (as the parser does). */
const MAX_VIOLATIONS = 20;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The most decisions a report covering `spanMs` may hold, per slice and in total. */
export function decisionCeiling(spanMs: number, perSecond: number): bigint {
  const span = Number.isFinite(spanMs) ? Math.min(Math.max(spanMs, MIN_CEILING_SPAN_MS), MAX_REPORT_SPAN_MS) : MIN_CEILING_SPAN_MS;
  const rate = Number.isSafeInteger(perSecond) && perSecond > 0 ? BigInt(perSecond) : 0n;
  return (rate * BigInt(Math.ceil(span))) / 1000n;
}

/**
 * The entries over the ceiling, each named by `fieldOf(key)`, and the total named `totalField`;
 * empty when the report is plausible.
 */
export function implausibleCounts(slices: Iterable<readonly [string, PathCounts]>, ceiling: bigint, fieldOf: (key: string) => string, totalField: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  let total: Exact = 0;
  for (const [key, counts] of slices) {
    const decisions = exactSum(counts.NEW, counts.LEGACY);
    total = exactSum(total, decisions);
    if (above(decisions, ceiling) && violations.length < MAX_VIOLATIONS) {
      violations.push({ field: fieldOf(key), message: `more decisions than one instance can make in the time the report covers (at most ${ceiling})` });
    }
  }
  if (above(total, ceiling) && violations.length === 0) {
    violations.push({ field: totalField, message: `more decisions in all than one instance can make in the time the report covers (at most ${ceiling})` });
  }
  return violations;
}

/**
 * A non-negative integer held exactly: a number while it is a safe integer (every report of an
 * honest SDK: a report of 50 slices would otherwise cost some 150 bigint allocations), a bigint beyond.
 */
type Exact = number | bigint;

/** `a + b`, exactly. A float sum of two safe integers is exact when it is at most 2^53 - 1, and at least 2^53 when the exact sum is. */
function exactSum(a: Exact, b: Exact): Exact {
  if (typeof a === 'number' && typeof b === 'number' && a + b <= Number.MAX_SAFE_INTEGER) return a + b;
  return BigInt(a) + BigInt(b);
}

function above(n: Exact, ceiling: bigint): boolean {
  return typeof n === 'number' && ceiling <= MAX_SAFE ? n > Number(ceiling) : BigInt(n) > ceiling;
}
