import { allNodes, graphql, idempotencyKey, type Page } from './api.js';
import type { HistoryRow } from './slices-api.js';

/** A plan's phase (docs/plans.md): PENDING → RUNNING ⇄ PAUSED; finished: ABORTED, COMPLETED, ROLLED_BACK. */
export type PlanPhase = 'PENDING' | 'RUNNING' | 'PAUSED' | 'ABORTED' | 'COMPLETED' | 'ROLLED_BACK';
export type GateAction = 'ROLLBACK' | 'PAUSE';

export const OPEN_PHASES: readonly PlanPhase[] = ['PENDING', 'RUNNING', 'PAUSED'];

export interface PlanStep {
  readonly number: number;
  readonly percent: number;
  readonly minDuration: string;
  readonly minNewCalls: number;
  readonly minComparisons: number;
  readonly requiresApproval: boolean;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
}

export interface GateStatus {
  readonly gate: string;
  readonly verdict: string;
  readonly onFail: GateAction;
  readonly summary: string;
  readonly figures: unknown;
  readonly reporters: readonly string[];
}

export interface Plan {
  readonly id: string;
  readonly sliceKey: string;
  readonly phase: PlanPhase;
  readonly author: string;
  readonly currentStep: number;
  readonly stepStartedAt: string | null;
  readonly version: number;
  readonly createdAt: string;
  readonly steps: readonly PlanStep[];
  readonly gates: {
    readonly failureRateCeilingPercent: number | null;
    readonly failureRateOnFail: GateAction | null;
    readonly latencyPercentile: number | null;
    readonly latencyMaxRatio: number | null;
    readonly latencyCeilingMs: number | null;
    readonly latencyOnFail: GateAction | null;
    readonly mismatchThresholdPercent: number | null;
    readonly mismatchOnFail: GateAction | null;
    readonly observedShareTolerancePercent: number | null;
    readonly observedShareOnFail: GateAction | null;
  };
  readonly status: {
    readonly phase: PlanPhase;
    readonly summary: string;
    readonly waitingFor: readonly string[];
    readonly lastVerdict: string | null;
    readonly lookedAt: string | null;
    readonly nextStepEarliestAt: string | null;
    readonly gates: readonly GateStatus[];
  };
}

const PLAN_FIELDS = `id sliceKey phase author currentStep stepStartedAt version createdAt
  steps { number percent minDuration minNewCalls minComparisons requiresApproval approvedBy approvedAt }
  gates { failureRateCeilingPercent failureRateOnFail latencyPercentile latencyMaxRatio latencyCeilingMs latencyOnFail
    mismatchThresholdPercent mismatchOnFail observedShareTolerancePercent observedShareOnFail }
  status { phase summary waitingFor lastVerdict lookedAt nextStepEarliestAt gates { gate verdict onFail summary figures reporters } }`;

const HISTORY_FIELDS = 'position action actor reason requestId recordedAt sliceKey segmentKey before after';

/** A slice's open plan (else its newest; null when it never had one) and the newest rows of its plans (PLAN_*, with their evidence). */
export async function loadPlan(sliceKey: string): Promise<{ plan: Plan | null; history: HistoryRow[] }> {
  const data = await graphql<{ slice: { plan: Plan | null }; history: { nodes: HistoryRow[] } }>(
    `query ConsolePlan($key: String!) {
      slice(key: $key) { plan { ${PLAN_FIELDS} } }
      history(planOf: $key, first: 20) { nodes { ${HISTORY_FIELDS} } }
    }`,
    { key: sliceKey },
  );
  return { plan: data.slice.plan, history: data.history.nodes };
}

export type PlanListRow = Pick<Plan, 'sliceKey' | 'phase' | 'author' | 'currentStep' | 'version'> & {
  readonly steps: readonly Pick<PlanStep, 'number' | 'percent'>[];
  readonly status: Pick<Plan['status'], 'summary' | 'waitingFor' | 'lastVerdict' | 'nextStepEarliestAt'>;
};

/** Every slice's open plan (else its newest), in slice-key order, 200 a page. */
export async function listPlans(): Promise<PlanListRow[]> {
  return allNodes(
    async (after) =>
      (
        await graphql<{ plans: Page<PlanListRow> }>(
          `
            query ConsolePlans($after: String) {
              plans(first: 200, after: $after) {
                nodes {
                  sliceKey
                  phase
                  author
                  currentStep
                  version
                  steps {
                    number
                    percent
                  }
                  status {
                    summary
                    waitingFor
                    lastVerdict
                    nextStepEarliestAt
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }
          `,
          { after },
        )
      ).plans,
  );
}

export interface StepInput {
  percent: number;
  minDuration: string;
  minNewCalls: number;
  minComparisons: number;
  requiresApproval: boolean;
}

export interface GatesInput {
  failureRate?: { ceilingPercent: number; onFail: GateAction };
  latency?: { percentile: number; maxRatio: number; ceilingMs: number; onFail: GateAction };
  mismatch?: { thresholdPercent?: number; onFail: GateAction };
  observedShare?: { tolerancePercent: number; onFail: GateAction };
}

export async function createPlan(sliceKey: string, steps: StepInput[], gates: GatesInput, reason: string): Promise<void> {
  await graphql(
    `
      mutation ConsoleCreatePlan($key: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput!, $reason: String, $idem: String) {
        createPlan(sliceKey: $key, steps: $steps, gates: $gates, reason: $reason, idempotencyKey: $idem) {
          id
        }
      }
    `,
    { key: sliceKey, steps, gates, reason: reason === '' ? null : reason, idem: idempotencyKey() },
  );
}

export type PlanCall = 'startPlan' | 'pausePlan' | 'resumePlan' | 'abortPlan';

/** Start, pause, resume or abort, at the version shown (a plan moved meanwhile is refused: PLAN_VERSION_CONFLICT). */
export async function planCall(call: PlanCall, sliceKey: string, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `mutation ConsolePlanCall($key: String!, $reason: String, $v: Int, $idem: String) {
      ${call}(sliceKey: $key, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) { id }
    }`,
    { key: sliceKey, reason, v: expectedVersion, idem: idempotencyKey() },
  );
}

export async function approveStep(sliceKey: string, step: number, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `
      mutation ConsoleApprovePlanStep($key: String!, $step: Int!, $reason: String, $v: Int, $idem: String) {
        approvePlanStep(sliceKey: $key, step: $step, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          id
        }
      }
    `,
    { key: sliceKey, step, reason, v: expectedVersion, idem: idempotencyKey() },
  );
}
