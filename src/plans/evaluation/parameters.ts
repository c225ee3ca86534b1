/**
 * The statistical parameters of a step's evaluation and their defaults (docs/plan-statistics.md,
 * "Parameters"). The defaults are what the service uses; the simulation (npm run sim:plans) runs
 * with them too. If you change one, rerun it and update the figures in the docs.
 */
export interface EvaluationParameters {
  /**
   * The chance that one gate FAILs a step in which its condition holds, however often the runner
   * looks (Ville's inequality): split over the gate's tests (Bonferroni). Three steps, four gates:
   * at most 3 × 4 × 0.0005 = 0.6 % of plans whose NEW is as good as LEGACY roll back.
   */
  readonly alphaFail: number;
  /** The chance that a gate PASSes although its condition does not hold (the bounds it passes on hold at 1 - alphaPass). */
  readonly alphaPass: number;
  /** The level at which a reporter's figures are flagged as disagreeing with the rest's (a flag only). */
  readonly alphaFlag: number;
  /** The share of a step's evidence minimum one reporter may supply when several apps follow. */
  readonly maxReporterShare: number;
  /**
   * The durations a latency percentile needs on each side, as expected durations above it: a
   * percentile q is read only from at least ⌈latencyTail / (1 - q)⌉ (p50: 40, p95: 400, p99: 2,000).
   */
  readonly latencyTail: number;
  /**
   * The length of the failure-rate gate's recent window, in minutes (the current, partial minute
   * included): a regression after hours of healthy traffic is judged on this window's evidence as
   * well as on the whole step's (docs/plan-statistics.md, "Recent window").
   */
  readonly recentWindowMinutes: number;
}

export const DEFAULT_PARAMETERS: EvaluationParameters = {
  alphaFail: 0.0005,
  alphaPass: 0.05,
  alphaFlag: 0.001,
  maxReporterShare: 0.5,
  latencyTail: 20,
  recentWindowMinutes: 5,
};

/** The fewest durations a percentile is read from (see latencyTail). */
export function latencyMinimum(percentile: number, tail: number): number {
  return Math.ceil(tail / (1 - percentile / 100) - 1e-9);
}
