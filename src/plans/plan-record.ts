import type { GateResult, PlanGates, StepVerdict } from './evaluation/contract.js';

/** Where a plan is. PENDING, RUNNING and PAUSED are open (one per slice at most); the rest are finished. */
export const PLAN_PHASES = ['PENDING', 'RUNNING', 'PAUSED', 'ABORTED', 'COMPLETED', 'ROLLED_BACK'] as const;
export type PlanPhase = (typeof PLAN_PHASES)[number];
export const OPEN_PHASES: readonly PlanPhase[] = ['PENDING', 'RUNNING', 'PAUSED'];

/** One step: the slice at `basisPoints` for at least the duration, with at least this evidence. */
export interface PlanStep {
  readonly basisPoints: number;
  /** As given ("6h"); `minDurationMs` is what it means. */
  readonly minDuration: string;
  readonly minDurationMs: number;
  readonly minNewCalls: number;
  readonly minComparisons: number;
  /** The slice moves to this step only once someone other than the author approved it. */
  readonly requiresApproval: boolean;
}

export interface PlanApproval {
  readonly step: number;
  readonly by: string;
  readonly at: string;
}

/**
 * A plan as stored, written to history whole (before / after). Times are ISO instants by the
 * service's clock (CLOCK), the one the runner measures a step's duration with.
 */
export interface PlanRecord {
  readonly id: string;
  readonly sliceKey: string;
  readonly phase: PlanPhase;
  readonly steps: readonly PlanStep[];
  readonly gates: PlanGates;
  /** The token name that created it: approvals must come from another. */
  readonly author: string;
  /** Index of the step the slice is at (0 before the plan starts). */
  readonly currentStep: number;
  /** When the slice reached the current step (or the plan resumed on it); evidence counts from its minute. */
  readonly stepStartedAt: string | null;
  readonly approvals: readonly PlanApproval[];
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * The runner's last look at a RUNNING plan: written on the plan row at every look (no history row,
 * no version bump: it is an observation, like traffic), read by the plan's status.
 */
export interface PlanLook {
  readonly at: string;
  readonly verdict: StepVerdict['kind'] | 'BLOCKED';
  readonly waitingFor: readonly string[];
  readonly gates: readonly GateResult[];
}

export function isOpen(phase: PlanPhase): boolean {
  return OPEN_PHASES.includes(phase);
}

export function isApproved(plan: PlanRecord, step: number): boolean {
  return plan.approvals.some((a) => a.step === step);
}
