import type { SparseHistogram } from '@switchyard/client-sdk/core';

/**
 * The contract between a plan's runner (src/plans, which reads evidence from the database, acts and
 * records) and the pure evaluation that decides what a running step should do (src/plans/evaluation,
 * no I/O, no clock: every input is an argument, so the offline simulation runs the very code the
 * service runs). docs/plans.md explains the rules; the statistics are documented in
 * docs/plan-statistics.md.
 *
 * Evidence is cumulative since the step started (the step's own percentage): the tests are
 * anytime-valid, so the verdict is a function of the evidence at this look alone and the runner
 * may look as often as it likes without inflating false rollbacks.
 */

/** What one path did over the step so far, as one reporter saw it. */
export interface PathEvidence {
  readonly calls: number;
  readonly failures: number;
  /** log2pct-v1 buckets (client-sdk/src/core/latency-histogram.ts). */
  readonly latency: SparseHistogram;
}

/**
 * One reporter's figures: the unit the service can attribute reports to (an app; an SDK instance
 * where reports carry one). Untrusted: the evaluation caps each reporter's share of the evidence,
 * and names the reporters behind a failing gate.
 */
export interface ReporterEvidence {
  /** How the reporter is shown: an app's name, or `app/instance` for an instance's own figures. */
  readonly reporter: string;
  /**
   * Set for an instance's figures: the app it belongs to (then the reporter is an instance, capped
   * on its own). Absent for an app's figures. Given, never parsed from `reporter`: app names and
   * instance ids may themselves hold a '/'.
   */
  readonly app?: string;
  readonly legacy: PathEvidence;
  readonly next: PathEvidence;
  /** Shadow comparisons run by this reporter. */
  readonly compared: number;
  readonly mismatches: number;
  /** Decisions this reporter made on the slice (usage reports), for the observed-share gate. */
  readonly decisions: number;
  readonly newDecisions: number;
}

export type GateAction = 'ROLLBACK' | 'PAUSE';

/** The gates of a plan (each optional; absent = not checked). Rates are fractions (0.001 = 0.1 %). */
export interface PlanGates {
  /** NEW's failure rate not worse than LEGACY's (sequential test), and never above `ceiling`. */
  readonly failureRate?: { readonly ceiling: number; readonly onFail: GateAction };
  /** NEW's percentile at most `maxRatio` times LEGACY's, and never above `ceilingMs`. */
  readonly latency?: { readonly percentile: 50 | 95 | 99; readonly maxRatio: number; readonly ceilingMs: number; readonly onFail: GateAction };
  /** The shadow comparison's mismatch rate at or under `threshold` (the slice's, 0.001 by default). */
  readonly mismatch?: { readonly threshold: number; readonly onFail: GateAction };
  /** The NEW share observed within `tolerance` (absolute, 0.02 = 2 points) of the configured one. */
  readonly observedShare?: { readonly tolerance: number; readonly onFail: GateAction };
}

export interface StepRequirements {
  /** The step's target, basis points (0..10000). */
  readonly basisPoints: number;
  readonly minDurationMs: number;
  readonly minNewCalls: number;
  readonly minComparisons: number;
}

export interface StepInput {
  readonly step: StepRequirements;
  readonly gates: PlanGates;
  readonly elapsedMs: number;
  readonly evidence: readonly ReporterEvidence[];
  /** The apps that follow the slice (connected or reported recently): evidence must come from them. */
  readonly followers: readonly string[];
  /**
   * Optional. LEGACY's figures carried from the previous step (its pooled LEGACY evidence), for a
   * step where no LEGACY traffic is left to compare with (100 %). When present, the failure-rate
   * and latency gates compare NEW with it instead of with this step's own LEGACY evidence (NEW's
   * rate against the baseline's, each with its confidence sequence; docs/plan-statistics.md).
   * Absent: this step's own LEGACY evidence, and at 100 % those gates wait (NOT_ENOUGH_DATA) for
   * LEGACY calls that may never come. Figures that are not counts are ignored (as if absent).
   */
  readonly baseline?: PathEvidence;
  /**
   * Optional. The recent window's evidence, for the failure-rate gate's recent-window test
   * (docs/plan-statistics.md, "Recent window"): the same reporters' figures over the minutes of the
   * step from `startMinute` (0 = the step's first minute) to now, where the runner chooses
   * `startMinute` = max(0, minutes elapsed - recentWindowMinutes + 1). Only calls and failures are
   * read. Absent, or `startMinute` 0 (the window is the whole step so far): no recent-window test.
   * Reporters whose figures are refused here or in `evidence` are left out.
   */
  readonly recent?: RecentEvidence;
}

export interface RecentEvidence {
  /** The minute of the step (0-based, whole minutes since the minute the step started in) the window starts at. */
  readonly startMinute: number;
  readonly evidence: readonly ReporterEvidence[];
}

export type GateName = 'FAILURE_RATE' | 'LATENCY' | 'MISMATCH' | 'OBSERVED_SHARE';
export type GateVerdict = 'PASS' | 'FAIL' | 'NOT_ENOUGH_DATA';

export interface GateResult {
  readonly gate: GateName;
  readonly verdict: GateVerdict;
  readonly onFail: GateAction;
  /** For a person: "NEW 2.1 % (1,204 calls) vs LEGACY 0.4 %; p = 0.0004 < 0.005". */
  readonly summary: string;
  /** The figures behind the verdict, recorded in the history row of an automatic action. */
  readonly figures: Readonly<Record<string, number | string | null>>;
  /** Reporters whose own figures fail the gate (named in a rollback's history row). */
  readonly reporters: readonly string[];
}

export type StepVerdict =
  /** Duration passed, evidence sufficient, every gate passes. */
  | { readonly kind: 'ADVANCE'; readonly gates: readonly GateResult[] }
  /** Wait: each entry says for what ("1,212 of 5,000 NEW calls"). Never advances, never aborts. */
  | { readonly kind: 'HOLD'; readonly waitingFor: readonly string[]; readonly gates: readonly GateResult[] }
  /** A gate failed: its action (rollback or pause) is taken at once. */
  | { readonly kind: 'FAIL'; readonly action: GateAction; readonly failed: GateResult; readonly gates: readonly GateResult[] };
