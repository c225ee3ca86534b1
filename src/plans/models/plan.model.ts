import { Field, Float, GraphQLISODateTime, Int, ObjectType } from '@nestjs/graphql';
import { basisPointsToPercent } from '@switchyard/client-sdk/core';
import GraphQLJSON from '../../common/graphql/json.scalar.js';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import type { GateResult } from '../evaluation/contract.js';
import { GateActionValue, PlanPhaseValue } from '../dto/plan.args.js';
import { isApproved, type PlanLook, type PlanPhase, type PlanRecord } from '../plan-record.js';

@ObjectType()
export class PlanStep {
  @Field(() => Int, { description: 'Counted from 1.' })
  number!: number;

  @Field(() => Float)
  percent!: number;

  @Field()
  minDuration!: string;

  @Field(() => Int)
  minNewCalls!: number;

  @Field(() => Int)
  minComparisons!: number;

  @Field()
  requiresApproval!: boolean;

  @Field(() => String, { nullable: true, description: 'Who approved it (a token other than the author).' })
  approvedBy!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  approvedAt!: Date | null;
}

@ObjectType({ description: 'The gates as the plan holds them; rates in percent.' })
export class PlanGates {
  @Field(() => Float, { nullable: true, description: "NEW's failure rate ceiling, percent (and not significantly worse than LEGACY's)." })
  failureRateCeilingPercent!: number | null;

  @Field(() => GateActionValue, { nullable: true })
  failureRateOnFail!: GateActionValue | null;

  @Field(() => Int, { nullable: true })
  latencyPercentile!: number | null;

  @Field(() => Float, { nullable: true })
  latencyMaxRatio!: number | null;

  @Field(() => Float, { nullable: true })
  latencyCeilingMs!: number | null;

  @Field(() => GateActionValue, { nullable: true })
  latencyOnFail!: GateActionValue | null;

  @Field(() => Float, { nullable: true })
  mismatchThresholdPercent!: number | null;

  @Field(() => GateActionValue, { nullable: true })
  mismatchOnFail!: GateActionValue | null;

  @Field(() => Float, { nullable: true, description: 'Points the observed NEW share may differ from the configured one.' })
  observedShareTolerancePercent!: number | null;

  @Field(() => GateActionValue, { nullable: true })
  observedShareOnFail!: GateActionValue | null;
}

@ObjectType({ description: "One gate at the runner's last look." })
export class GateStatus {
  @Field({ description: 'FAILURE_RATE, LATENCY, MISMATCH or OBSERVED_SHARE.' })
  gate!: string;

  @Field({ description: 'PASS, FAIL or NOT_ENOUGH_DATA.' })
  verdict!: string;

  @Field(() => GateActionValue)
  onFail!: GateActionValue;

  @Field({ description: 'For a person: the figures and the test.' })
  summary!: string;

  @Field(() => GraphQLJSON, { description: 'The figures behind the verdict.' })
  figures!: unknown;

  @Field(() => [String], { description: 'Reporters (apps) whose own figures fail the gate.' })
  reporters!: string[];
}

@ObjectType({ description: 'Where the plan is and what it waits for, at a glance.' })
export class PlanStatus {
  @Field(() => PlanPhaseValue)
  phase!: PlanPhase;

  @Field({ description: '"step 2 of 3 (50 %)", "completed at 100 %"...' })
  summary!: string;

  @Field(() => [String], { description: 'What the plan waits for: "1,212 of 5,000 NEW calls", "approval of step 3 by someone other than alice"...' })
  waitingFor!: string[];

  @Field(() => [GateStatus])
  gates!: GateStatus[];

  @Field(() => String, { nullable: true, description: "The runner's last verdict: ADVANCE, HOLD, FAIL or BLOCKED (an advance refused, e.g. by a freeze window)." })
  lastVerdict!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: "When the runner last looked (the service's clock)." })
  lookedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: "The earliest the next step may come: the current step's start plus its minimum duration." })
  nextStepEarliestAt!: Date | null;
}

@ObjectType({ description: "A slice's cutover plan: ordered steps, gates, and where it is (docs/plans.md)." })
export class Plan {
  @Field()
  id!: string;

  @Field()
  sliceKey!: string;

  @Field(() => PlanPhaseValue)
  phase!: PlanPhase;

  @Field(() => [PlanStep])
  steps!: PlanStep[];

  @Field(() => PlanGates)
  gates!: PlanGates;

  @Field({ description: 'The token that created it; approvals come from others.' })
  author!: string;

  @Field(() => Int, { description: 'The step the slice is at, counted from 1.' })
  currentStep!: number;

  @Field(() => GraphQLISODateTime, { nullable: true })
  stepStartedAt!: Date | null;

  @Field(() => PlanStatus)
  status!: PlanStatus;

  @Field(() => Int, { description: 'Pass it as expectedVersion to refuse stale plan calls.' })
  version!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime)
  updatedAt!: Date;

  static from(p: PlanRecord, look: PlanLook | null): Plan {
    const g = p.gates;
    const pct = (fraction: number | undefined) => (fraction === undefined ? null : Math.round(fraction * 1e8) / 1e6);
    return Object.assign(new Plan(), {
      id: p.id,
      sliceKey: p.sliceKey,
      phase: p.phase,
      steps: p.steps.map((s, i) => {
        const approval = p.approvals.find((a) => a.step === i);
        return {
          number: i + 1,
          percent: basisPointsToPercent(s.basisPoints),
          minDuration: s.minDuration,
          minNewCalls: s.minNewCalls,
          minComparisons: s.minComparisons,
          requiresApproval: s.requiresApproval,
          approvedBy: approval?.by ?? null,
          approvedAt: approval ? new Date(approval.at) : null,
        };
      }),
      gates: {
        failureRateCeilingPercent: pct(g.failureRate?.ceiling),
        failureRateOnFail: (g.failureRate?.onFail as GateActionValue | undefined) ?? null,
        latencyPercentile: g.latency?.percentile ?? null,
        latencyMaxRatio: g.latency?.maxRatio ?? null,
        latencyCeilingMs: g.latency?.ceilingMs ?? null,
        latencyOnFail: (g.latency?.onFail as GateActionValue | undefined) ?? null,
        mismatchThresholdPercent: pct(g.mismatch?.threshold),
        mismatchOnFail: (g.mismatch?.onFail as GateActionValue | undefined) ?? null,
        observedShareTolerancePercent: pct(g.observedShare?.tolerance),
        observedShareOnFail: (g.observedShare?.onFail as GateActionValue | undefined) ?? null,
      },
      author: p.author,
      currentStep: p.currentStep + 1,
      stepStartedAt: p.stepStartedAt === null ? null : new Date(p.stepStartedAt),
      status: statusOf(p, look),
      version: p.version,
      createdAt: new Date(p.createdAt),
      updatedAt: new Date(p.updatedAt),
    });
  }
}

/** What a person reads: the phase, the step, what it waits for, each gate's figures, the next step's time. */
export function statusOf(p: PlanRecord, look: PlanLook | null): PlanStatus {
  const step = p.steps[p.currentStep]!;
  const at = `step ${p.currentStep + 1} of ${p.steps.length} (${basisPointsToPercent(step.basisPoints)} %)`;
  const next = p.steps[p.currentStep + 1];
  const waitingFor: string[] = [];
  let summary: string;
  switch (p.phase) {
    case 'PENDING':
      summary = `not started; ${p.steps.length} steps to ${basisPointsToPercent(p.steps[p.steps.length - 1]!.basisPoints)} %`;
      if (p.steps[0]!.requiresApproval && !isApproved(p, 0)) waitingFor.push(`approval of step 1 by someone other than ${p.author}`);
      waitingFor.push('startPlan');
      break;
    case 'RUNNING':
      summary = `running: ${at}`;
      if (look === null) waitingFor.push("the runner's first look");
      else waitingFor.push(...look.waitingFor);
      if (next !== undefined && next.requiresApproval && !isApproved(p, p.currentStep + 1)) {
        const line = `approval of step ${p.currentStep + 2} by someone other than ${p.author}`;
        if (!waitingFor.includes(line)) waitingFor.push(line);
      }
      break;
    case 'PAUSED':
      summary = `paused at ${at}`;
      waitingFor.push('resumePlan (a rolled-back slice is resumed first)');
      break;
    case 'COMPLETED':
      summary = `completed at ${basisPointsToPercent(step.basisPoints)} %`;
      break;
    case 'ROLLED_BACK':
      summary = `rolled back at ${at}`;
      break;
    case 'ABORTED':
      summary = `aborted at ${at}`;
      break;
  }
  const gates = p.phase === 'RUNNING' && look !== null ? look.gates : [];
  return {
    phase: p.phase,
    summary,
    waitingFor,
    gates: gates.map((r: GateResult) => ({
      gate: r.gate,
      verdict: r.verdict,
      onFail: r.onFail as GateActionValue,
      summary: r.summary,
      figures: r.figures,
      reporters: [...r.reporters],
    })),
    lastVerdict: look?.verdict ?? null,
    lookedAt: look === null ? null : new Date(look.at),
    nextStepEarliestAt: (p.phase === 'RUNNING' || p.phase === 'PAUSED') && p.stepStartedAt !== null ? new Date(Date.parse(p.stepStartedAt) + step.minDurationMs) : null,
  };
}

@ObjectType()
export class PlanConnection {
  @Field(() => [Plan])
  nodes!: Plan[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
