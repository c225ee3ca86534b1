/**
 * The observed-share gate (docs/plan-statistics.md, "Observed share"). Pure.
 *
 * NEW's share of the decisions reported, against the step's target ± tolerance. FAIL when it is
 * outside that band (a one-sided mixture test at the band's edge rejects), pooled or for one
 * reporter on its own: a follower that does not follow (an old configuration, its own overrides)
 * shows up by name. PASS when the pooled share is inside the band at both edges; otherwise, and with
 * no decisions, NOT_ENOUGH_DATA.
 *
 * Decisions repeat per subject (one subject, many calls), so they are not independent draws: the
 * tolerance (2 points by default) is what absorbs a heavy user on one side.
 */
import type { GateResult, PlanGates } from './contract.js';
import { figure, formatCount, formatRate } from './format.js';
import { type GateContext, gateResult, separately } from './gate-context.js';
import { rateLowerBound, rateUpperBound, rejects } from './sequential.js';

type ShareGate = NonNullable<PlanGates['observedShare']>;

/** Outside the band [low, high] at level α (two one-sided tests at α/2; an edge beyond 0 or 1 cannot be crossed). */
function outside(x: number, n: number, low: number, high: number, alpha: number): boolean {
  return (high < 1 && rejects(x, n, high, 'ABOVE', alpha / 2)) || (low > 0 && rejects(x, n, low, 'BELOW', alpha / 2));
}

function inside(x: number, n: number, low: number, high: number, alpha: number): boolean {
  return n > 0 && (high >= 1 || rejects(x, n, high, 'BELOW', alpha / 2)) && (low <= 0 || rejects(x, n, low, 'ABOVE', alpha / 2));
}

export function observedShareGate(gate: ShareGate, basisPoints: number, context: GateContext): GateResult {
  const { pooled, parameters, reporters } = context;
  const target = basisPoints / 10000;
  const low = target - gate.tolerance;
  const high = target + gate.tolerance;
  const own = separately(reporters, (r) => r.decisions > 0);
  const alpha = parameters.alphaFail / 2;
  const ownAlpha = own.length > 0 ? parameters.alphaFail / 2 / own.length : 0;
  const { decisions, newDecisions } = pooled;
  const share = decisions > 0 ? newDecisions / decisions : null;
  const failing = own.filter((r) => outside(r.newDecisions, r.decisions, low, high, ownAlpha)).map((r) => r.reporter);
  const pooledOutside = outside(newDecisions, decisions, low, high, alpha);
  const figures = {
    decisions,
    newDecisions,
    share: share === null ? null : figure(share),
    shareLow: figure(rateLowerBound(newDecisions, decisions, parameters.alphaPass / 2)),
    shareHigh: figure(rateUpperBound(newDecisions, decisions, parameters.alphaPass / 2)),
    target,
    tolerance: gate.tolerance,
    notFollowing: failing.length > 0 ? failing.join(',') : null,
  };
  const head = `NEW share ${formatRate(share)} of ${formatCount(decisions)} decisions, target ${formatRate(target)} ± ${formatRate(gate.tolerance)}`;
  if (pooledOutside || failing.length > 0) {
    const why = failing.length > 0 ? `not following: ${failing.join(', ')}` : 'outside the band';
    return gateResult('OBSERVED_SHARE', 'FAIL', gate.onFail, `${head}; ${why}`, figures, failing);
  }
  if (inside(newDecisions, decisions, low, high, parameters.alphaPass)) {
    return gateResult('OBSERVED_SHARE', 'PASS', gate.onFail, `${head}; within it`, figures);
  }
  return gateResult('OBSERVED_SHARE', 'NOT_ENOUGH_DATA', gate.onFail, `${head}; cannot tell yet`, figures);
}
