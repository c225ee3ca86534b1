/**
 * The failure-rate gate (docs/plan-statistics.md, "Failure rate"). Pure.
 *
 * FAIL when NEW fails more often than LEGACY (the conditional mixture SPRT of sequential.ts: each
 * failure is NEW's with probability ρ = NEW's share of the calls if both fail alike), or when NEW's
 * failure rate is above the ceiling (the lower bound of its confidence sequence is), pooled or for
 * one reporter on its own. With a baseline (a step where no LEGACY is left), NEW's rate is compared
 * with the baseline's: NEW's lower bound above the baseline's upper bound.
 * PASS when nothing fails and NEW's upper bound is at or under the ceiling.
 * NOT_ENOUGH_DATA otherwise, and whenever NEW or the side it is compared with has no calls.
 */
import type { GateResult, PlanGates } from './contract.js';
import { formatCount, formatRate, figure } from './format.js';
import { type GateContext, gateResult, separately } from './gate-context.js';
import type { CleanPath } from './reporters.js';
import { logMixtureRatio, rateLowerBound, rateUpperBound, rejects } from './sequential.js';

type FailureGate = NonNullable<PlanGates['failureRate']>;

/** NEW worse than the comparison side, at level α: the evidence (ln Λ) and the verdict. */
function worse(next: CleanPath, other: CleanPath, isBaseline: boolean, alpha: number): { logEvidence: number; rejected: boolean } {
  if (next.calls === 0 || other.calls === 0) return { logEvidence: 0, rejected: false };
  if (isBaseline) {
    // Two confidence sequences at α/2 each: NEW's lower bound above the baseline's upper bound.
    const rejected = rateLowerBound(next.failures, next.calls, alpha / 2) > rateUpperBound(other.failures, other.calls, alpha / 2);
    return { logEvidence: logMixtureRatio(next.failures, next.calls, Math.max(other.failures / other.calls, 0), 'ABOVE'), rejected };
  }
  const share = next.calls / (next.calls + other.calls);
  const total = next.failures + other.failures;
  const logEvidence = logMixtureRatio(next.failures, total, share, 'ABOVE');
  return { logEvidence, rejected: logEvidence >= Math.log(1 / alpha) };
}

/** Two-sided: does this reporter's rate on a path differ from the rest's (conditional test, each side at α/2)? */
function disagrees(own: CleanPath, rest: CleanPath, alpha: number): boolean {
  if (own.calls === 0 || rest.calls === 0) return false;
  const share = own.calls / (own.calls + rest.calls);
  const total = own.failures + rest.failures;
  return rejects(own.failures, total, share, 'ABOVE', alpha / 2) || rejects(own.failures, total, share, 'BELOW', alpha / 2);
}

/**
 * The level of the recent-window test whose window starts at step minute `startMinute` (≥ 1):
 * `budget / (s(s+1))`, so that the levels of every window a step can have sum to `budget` (a union
 * bound; its threshold grows as 2 ln s: +8 nats after an hour at a step, +14.5 after a day).
 */
export function recentLevel(budget: number, startMinute: number): number {
  const s = Math.max(1, startMinute);
  return budget / (s * (s + 1));
}

export function failureRateGate(gate: FailureGate, context: GateContext): GateResult {
  const { pooled, baseline, parameters, reporters, recent } = context;
  const next = pooled.next;
  const isBaseline = baseline !== null;
  const other = baseline ?? pooled.legacy;
  const alpha = parameters.alphaFail;
  const own = separately(reporters, (r) => r.next.calls > 0);
  // Bonferroni: a quarter of α to the pooled comparison over the whole step, a quarter to the
  // recent windows (the window starting at step minute s ≥ 1 gets α/4 / (s(s+1)), which sums to
  // α/4 over every s: each is anytime-valid on its own, so any pattern of looks at any windows
  // keeps the total), the other half split evenly over the pooled ceiling and each reporter's own
  // comparison and ceiling.
  const mainAlpha = alpha / 4;
  const restAlpha = alpha / 2 / (1 + 2 * own.length);
  const ceiling = gate.ceiling;

  const main = worse(next, other, isBaseline, mainAlpha);
  const recentAlpha = recent === null ? 0 : recentLevel(alpha / 4, recent.startMinute);
  const latest = recent === null ? null : worse(recent.pooled.next, baseline ?? recent.pooled.legacy, isBaseline, recentAlpha);
  const low = rateLowerBound(next.failures, next.calls, restAlpha);
  const high = rateUpperBound(next.failures, next.calls, parameters.alphaPass);
  const aboveCeiling = rejects(next.failures, next.calls, ceiling, 'ABOVE', restAlpha);
  const underCeiling = rejects(next.failures, next.calls, ceiling, 'BELOW', parameters.alphaPass);

  const failing: string[] = [];
  for (const r of own) {
    const mine = worse(r.next, baseline ?? r.legacy, isBaseline, restAlpha).rejected;
    const overCeiling = rejects(r.next.failures, r.next.calls, ceiling, 'ABOVE', restAlpha);
    if (mine || overCeiling) failing.push(r.reporter);
  }
  const disagreeing: string[] = [];
  if (own.length >= 2) {
    const flag = parameters.alphaFlag / own.length;
    for (const r of own) {
      const restNext = { calls: next.calls - r.next.calls, failures: next.failures - r.next.failures, latency: [] };
      const restLegacy = { calls: pooled.legacy.calls - r.legacy.calls, failures: pooled.legacy.failures - r.legacy.failures, latency: [] };
      if (disagrees(r.next, restNext, flag) || disagrees(r.legacy, restLegacy, flag)) disagreeing.push(r.reporter);
    }
  }

  const newRate = next.calls > 0 ? next.failures / next.calls : null;
  const otherRate = other.calls > 0 ? other.failures / other.calls : null;
  const figures = {
    newCalls: next.calls,
    newFailures: next.failures,
    newRate: newRate === null ? null : figure(newRate),
    newRateLow: figure(low),
    newRateHigh: figure(high),
    legacyCalls: other.calls,
    legacyFailures: other.failures,
    legacyRate: otherRate === null ? null : figure(otherRate),
    comparedWith: isBaseline ? 'baseline' : 'legacy',
    logEvidence: figure(main.logEvidence),
    logThreshold: figure(Math.log(1 / mainAlpha)),
    ceiling,
    recentFromMinute: recent === null ? null : recent.startMinute,
    recentNewCalls: recent === null ? null : recent.pooled.next.calls,
    recentNewFailures: recent === null ? null : recent.pooled.next.failures,
    recentLogEvidence: latest === null ? null : figure(latest.logEvidence),
    recentLogThreshold: recent === null ? null : figure(Math.log(1 / recentAlpha)),
    disagreeing: disagreeing.length > 0 ? disagreeing.join(',') : null,
  };
  const side = isBaseline ? 'LEGACY baseline' : 'LEGACY';
  const flagged = disagreeing.length > 0 ? `; figures disagree with the rest: ${disagreeing.join(', ')}` : '';
  const head = `NEW ${formatRate(newRate)} (${formatCount(next.failures)} of ${formatCount(next.calls)} calls) vs ${side} ${formatRate(otherRate)} (${formatCount(other.failures)} of ${formatCount(other.calls)})`;

  const recentRejected = latest?.rejected === true;
  if (main.rejected || recentRejected || aboveCeiling || failing.length > 0) {
    const why = main.rejected
      ? `NEW fails more: evidence e^${main.logEvidence.toFixed(1)} ≥ e^${Math.log(1 / mainAlpha).toFixed(1)}`
      : recentRejected
        ? `NEW fails more since minute ${recent!.startMinute} of the step (${formatCount(recent!.pooled.next.failures)} of ${formatCount(recent!.pooled.next.calls)} NEW calls): evidence e^${latest.logEvidence.toFixed(1)} ≥ e^${Math.log(1 / recentAlpha).toFixed(1)}`
        : aboveCeiling
          ? `NEW's rate is above the ${formatRate(ceiling)} ceiling (at least ${formatRate(low)})`
          : `NEW fails more for ${failing.join(', ')}`;
    // Named: the reporters failing on their own, else those whose NEW fails more than the other side.
    const named = failing.length > 0 ? failing : own.filter((r) => r.next.failures / r.next.calls > (otherRate ?? 0)).map((r) => r.reporter);
    return gateResult('FAILURE_RATE', 'FAIL', gate.onFail, `${head}; ${why}${flagged}`, figures, named);
  }
  if (next.calls === 0 || other.calls === 0) {
    const missing = next.calls === 0 ? 'no NEW calls yet' : `no ${side} calls to compare with`;
    return gateResult('FAILURE_RATE', 'NOT_ENOUGH_DATA', gate.onFail, `${head}; ${missing}${flagged}`, figures);
  }
  if (!underCeiling) {
    return gateResult(
      'FAILURE_RATE',
      'NOT_ENOUGH_DATA',
      gate.onFail,
      `${head}; NEW's rate could still be up to ${formatRate(high)}, above the ${formatRate(ceiling)} ceiling${flagged}`,
      figures,
    );
  }
  return gateResult('FAILURE_RATE', 'PASS', gate.onFail, `${head}; no sign that NEW fails more, and at most ${formatRate(high)} ≤ ${formatRate(ceiling)}${flagged}`, figures);
}
