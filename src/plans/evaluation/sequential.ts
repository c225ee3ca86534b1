/**
 * Anytime-valid tests and confidence sequences for counts (docs/plan-statistics.md). Pure.
 *
 * One building block: a mixture sequential probability ratio test (mSPRT) on Bernoulli trials,
 * with the mixture over a fixed grid of odds ratios. For `x` events in `n` trials and a null rate
 * θ0, the alternative with odds ratio r has rate θr = θ0·r / (θ0·r + 1 - θ0), and its likelihood
 * ratio against θ0 is
 *
 *     LR_r = (θr/θ0)^x · ((1-θr)/(1-θ0))^(n-x)  =  r^x / (1 + θ0·(r - 1))^n.
 *
 * Λ = mean over the grid of LR_r is a non-negative martingale under θ0 (a supermartingale for any
 * rate on the far side of θ0 from the grid), so by Ville's inequality P(Λ ever ≥ 1/α) ≤ α: the
 * test may be looked at after every trial, forever, and still rejects a true null with
 * probability at most α. That is the always-valid inference of Johari, Pekelis and Walsh ("Always
 * valid inference: continuous monitoring of A/B tests", Operations Research 70(3), 2022), with a
 * discrete mixing distribution so that everything is closed-form (no special functions) and
 * one-sided by construction.
 *
 * Applied to failures conditioned on their total, it is the count-data test of Lindon, Sanden and
 * Shirikian ("Rapid regression detection in software deployments through sequential testing", KDD
 * 2022): if NEW and LEGACY fail at the same rate per call, each failure is NEW's with probability
 * ρ = NEW's share of the calls, whatever that rate is; the odds ratio r is then the ratio of NEW's
 * failure rate to LEGACY's.
 *
 * Inverting the test over θ0 gives a confidence sequence for a binomial rate (the set of rates not
 * rejected, valid at every look at once); inverting it over the count gives rank bounds for a
 * quantile (Howard and Ramdas, "Sequential estimation of quantiles with applications to A/B-testing
 * and best-arm identification", Bernoulli 28(3), 2022): see quantile-bounds.ts.
 */

/**
 * The odds ratios mixed over, each with equal weight. From 1.1 (fine enough to resolve a p99 or a
 * 10 % regression over much evidence) to 100 (a path that fails at once is caught after a handful of
 * its failures). If you change it, rerun `npm run sim:plans` and update docs/plan-statistics.md.
 */
export const ODDS_RATIOS: readonly number[] = [1.1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100];
const LOG_K = Math.log(ODDS_RATIOS.length);
const LOG_UP = ODDS_RATIOS.map((r) => Math.log(r));
const LOG_DOWN = ODDS_RATIOS.map((r) => -Math.log(r));
const DOWN = ODDS_RATIOS.map((r) => 1 / r);

export type Direction = 'ABOVE' | 'BELOW';

function clampRate(theta: number): number {
  return theta < 0 ? 0 : theta > 1 ? 1 : theta;
}

/** ln of the mean of exp(terms): the mixture's ln Λ from its components' ln LR. */
function logMeanExp(terms: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < terms.length; k++) if (terms[k]! > max) max = terms[k]!;
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let k = 0; k < terms.length; k++) sum += Math.exp(terms[k]! - max);
  return max + Math.log(sum) - LOG_K;
}

/** Scratch for the components' ln LR: the evaluation is synchronous, so one buffer serves every call. */
const TERMS = new Float64Array(ODDS_RATIOS.length);

/** Per component, ln(1 + θ0·(r - 1)): what n multiplies in ln LR_r. */
function bases(theta0: number, direction: Direction): Float64Array {
  const t = clampRate(theta0);
  const ratios = direction === 'ABOVE' ? ODDS_RATIOS : DOWN;
  const out = new Float64Array(ratios.length);
  for (let k = 0; k < ratios.length; k++) out[k] = Math.log1p(t * (ratios[k]! - 1));
  return out;
}

function logMixtureWith(x: number, n: number, base: Float64Array, direction: Direction): number {
  const logs = direction === 'ABOVE' ? LOG_UP : LOG_DOWN;
  for (let k = 0; k < base.length; k++) TERMS[k] = (x === 0 ? 0 : x * logs[k]!) - (n === 0 ? 0 : n * base[k]!);
  return logMeanExp(TERMS);
}

/**
 * ln Λ: the log of the mixture likelihood ratio for `x` events in `n` trials against the null
 * rate `theta0`, mixing over rates above it (`ABOVE`: "the rate is higher than θ0") or below it
 * (`BELOW`). 0 with no trials. Inputs are trusted here (finite, 0 ≤ x ≤ n, 0 ≤ θ0 ≤ 1).
 */
export function logMixtureRatio(x: number, n: number, theta0: number, direction: Direction): number {
  if (!(n > 0)) return 0;
  const t = clampRate(theta0);
  const ratios = direction === 'ABOVE' ? ODDS_RATIOS : DOWN;
  const logs = direction === 'ABOVE' ? LOG_UP : LOG_DOWN;
  // r^x / (1 + θ0 (r - 1))^n; at θ0 = 1 (BELOW) or 0 (ABOVE) the events decide alone.
  for (let k = 0; k < ratios.length; k++) TERMS[k] = (x === 0 ? 0 : x * logs[k]!) - n * Math.log1p(t * (ratios[k]! - 1));
  return logMeanExp(TERMS);
}

/** True when the data reject "the rate is at most θ0" (ABOVE) or "at least θ0" (BELOW) at level α, at this or any look. */
export function rejects(x: number, n: number, theta0: number, direction: Direction, alpha: number): boolean {
  return logMixtureRatio(x, n, theta0, direction) >= Math.log(1 / alpha);
}

/** Bisection stops when the bound is known to this relative precision (figures keep 6 digits). */
const PRECISION = 1e-5;

/**
 * The lower bound of a confidence sequence for the rate of `x` events in `n` trials: the smallest
 * θ0 that the ABOVE test does not reject at level α. 0 with no events.
 */
export function rateLowerBound(x: number, n: number, alpha: number): number {
  if (!(n > 0) || !(x > 0)) return 0;
  // ln Λ_ABOVE decreases in θ0: rejected on [0, bound), not rejected on [bound, 1].
  let lo = 0;
  let hi = Math.min(1, x / n);
  if (rejects(x, n, hi, 'ABOVE', alpha)) return hi;
  if (!rejects(x, n, 0, 'ABOVE', alpha)) return 0;
  while (hi - lo > PRECISION * hi) {
    const mid = (lo + hi) / 2;
    if (rejects(x, n, mid, 'ABOVE', alpha)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The upper bound of that confidence sequence: the largest θ0 that the BELOW test does not reject at level α. 1 when every trial was an event. */
export function rateUpperBound(x: number, n: number, alpha: number): number {
  if (!(n > 0)) return 1;
  if (x >= n) return 1;
  let lo = Math.max(0, x / n);
  let hi = 1;
  if (rejects(x, n, lo, 'BELOW', alpha)) return lo;
  if (!rejects(x, n, 1, 'BELOW', alpha)) return 1;
  while (hi - lo > PRECISION * hi) {
    const mid = (lo + hi) / 2;
    if (rejects(x, n, mid, 'BELOW', alpha)) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * For a count x, ln Λ(x) = ln mean_k exp(x·a_k - n·b_k) is convex in x (a log-sum-exp of linear
 * functions), increasing for ABOVE (every a_k > 0) and decreasing for BELOW. Its crossing of
 * `threshold` is found by Newton's method started on the far side of the crossing: for a convex
 * monotone function the iterates then approach the root from that side without overshooting
 * (a handful of steps instead of a bisection's twenty). Returns the real x where ln Λ = threshold.
 */
function crossing(n: number, base: Float64Array, direction: Direction, threshold: number, start: number): number {
  const logs = direction === 'ABOVE' ? LOG_UP : LOG_DOWN;
  let x = start;
  for (let iteration = 0; iteration < 100; iteration++) {
    let max = -Infinity;
    for (let k = 0; k < base.length; k++) {
      const term = x * logs[k]! - n * base[k]!;
      TERMS[k] = term;
      if (term > max) max = term;
    }
    let sum = 0;
    let slope = 0;
    for (let k = 0; k < base.length; k++) {
      const weight = Math.exp(TERMS[k]! - max);
      sum += weight;
      slope += weight * logs[k]!;
    }
    const value = max + Math.log(sum) - LOG_K;
    const step = (value - threshold) / (slope / sum);
    x -= step;
    if (!(Math.abs(step) > 1e-6)) break;
  }
  return x;
}

/**
 * Count bounds for a known rate θ0 after `n` trials, uniform over time: with probability at least
 * 1 - α, at every look the number of events stays within [low, high]. `high` is the largest count
 * the ABOVE test does not reject at α/2, `low` the smallest the BELOW test does not reject at α/2.
 * Used for the rank of a quantile (quantile-bounds.ts).
 */
export function countBounds(n: number, theta0: number, alpha: number): { low: number; high: number } {
  if (!(n > 0)) return { low: 0, high: 0 };
  const threshold = Math.log(2 / alpha);
  const up = bases(theta0, 'ABOVE');
  const down = bases(theta0, 'BELOW');
  // At x = θ0·n neither test rejects (each ln LR_r ≤ 0 there, by the concavity of ln), and ABOVE's
  // ln Λ increases in x while BELOW's decreases: each bound is the end of an interval. Newton gives
  // the crossing; the integer next to it is checked directly (rounding must not cross it).
  let high = n;
  if (logMixtureWith(n, n, up, 'ABOVE') >= threshold) {
    high = Math.min(n, Math.max(Math.floor(theta0 * n), Math.ceil(crossing(n, up, 'ABOVE', threshold, n))));
    while (high > 0 && logMixtureWith(high, n, up, 'ABOVE') >= threshold) high--;
    while (high < n && logMixtureWith(high + 1, n, up, 'ABOVE') < threshold) high++;
  }
  let low = 0;
  if (logMixtureWith(0, n, down, 'BELOW') >= threshold) {
    low = Math.max(0, Math.min(Math.ceil(theta0 * n), Math.floor(crossing(n, down, 'BELOW', threshold, 0))));
    while (low < n && logMixtureWith(low, n, down, 'BELOW') >= threshold) low++;
    while (low > 0 && logMixtureWith(low - 1, n, down, 'BELOW') < threshold) low--;
  }
  return { low, high };
}
