/**
 * The mismatch gate (docs/plan-statistics.md, "Mismatch rate"). Pure.
 *
 * FAIL when the mismatch rate is above the threshold (the ABOVE mixture test at the threshold
 * rejects), pooled or for one reporter's own comparisons; PASS when it is at or under it (the BELOW
 * test rejects, pooled): the two sides of a confidence sequence for a binomial rate. Otherwise,
 * and with no comparisons, NOT_ENOUGH_DATA.
 */
import type { GateResult, PlanGates } from './contract.js';
import { figure, formatCount, formatRate } from './format.js';
import { type GateContext, gateResult, separately } from './gate-context.js';
import { rateLowerBound, rateUpperBound, rejects } from './sequential.js';

type MismatchGate = NonNullable<PlanGates['mismatch']>;

export function mismatchGate(gate: MismatchGate, context: GateContext): GateResult {
  const { pooled, parameters, reporters } = context;
  const threshold = gate.threshold;
  const own = separately(reporters, (r) => r.compared > 0);
  const alpha = parameters.alphaFail / 2;
  const ownAlpha = own.length > 0 ? parameters.alphaFail / 2 / own.length : 0;
  const { compared, mismatches } = pooled;
  const above = rejects(mismatches, compared, threshold, 'ABOVE', alpha);
  const failing = own.filter((r) => rejects(r.mismatches, r.compared, threshold, 'ABOVE', ownAlpha)).map((r) => r.reporter);
  const rate = compared > 0 ? mismatches / compared : null;
  const low = rateLowerBound(mismatches, compared, alpha);
  const high = rateUpperBound(mismatches, compared, parameters.alphaPass);
  const figures = { compared, mismatches, rate: rate === null ? null : figure(rate), rateLow: figure(low), rateHigh: figure(high), threshold };
  const head = `mismatches ${formatRate(rate)} (${formatCount(mismatches)} of ${formatCount(compared)} comparisons), threshold ${formatRate(threshold)}`;
  if (above || failing.length > 0) {
    const why = above ? `at least ${formatRate(low)}` : `above it for ${failing.join(', ')}`;
    return gateResult('MISMATCH', 'FAIL', gate.onFail, `${head}: ${why}`, figures, failing);
  }
  if (compared > 0 && rejects(mismatches, compared, threshold, 'BELOW', parameters.alphaPass)) {
    return gateResult('MISMATCH', 'PASS', gate.onFail, `${head}: at most ${formatRate(high)}`, figures);
  }
  return gateResult('MISMATCH', 'NOT_ENOUGH_DATA', gate.onFail, `${head}: could be up to ${formatRate(high)}`, figures);
}
