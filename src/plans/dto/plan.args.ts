import { ArgsType, Field, Float, InputType, Int, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { AfterField, ExpectedVersionField, FirstField, KeyField } from '../../common/dto/fields.js';
import { ChangeWithExposureReasonArgs, ChangeWithReasonArgs } from '../../common/dto/change.args.js';
import { MAX_STEPS } from '../plan-input.js';
import { PLAN_PHASES, type PlanPhase } from '../plan-record.js';

export enum GateActionValue {
  ROLLBACK = 'ROLLBACK',
  PAUSE = 'PAUSE',
}
registerEnumType(GateActionValue, { name: 'GateAction', description: 'What a failing gate does: roll the slice back (the default) or pause the plan.' });

export const PlanPhaseValue = Object.fromEntries(PLAN_PHASES.map((p) => [p, p])) as { [P in PlanPhase]: P };
registerEnumType(PlanPhaseValue, {
  name: 'PlanPhase',
  description: 'PENDING (created), RUNNING, PAUSED; finished: ABORTED, COMPLETED (the last step reached), ROLLED_BACK (a gate rolled the slice back).',
});

// Field-level bounds here are loose on purpose (types and sizes): plan-input.ts checks the values and
// names each offending field, steps[1].minDuration and the like.
@InputType()
export class PlanStepInput {
  @Field(() => Float, { description: 'Share on NEW at this step: more than 0, at most 100, two decimals; above the step before.' })
  @IsNumber()
  percent!: number;

  @Field({ description: 'The least time at this step: a whole number and m, h or d ("30m", "6h", "1d"), 1 minute to 90 days.' })
  @IsString()
  @MaxLength(16)
  minDuration!: string;

  @Field(() => Int, { defaultValue: 0, description: 'The least NEW calls reported at this step before it may advance.' })
  @IsInt()
  minNewCalls!: number;

  @Field(() => Int, { defaultValue: 0, description: 'The least shadow comparisons reported at this step before it may advance.' })
  @IsInt()
  minComparisons!: number;

  @Field({ defaultValue: false, description: 'The slice moves to this step only once someone other than the author approved it.' })
  @IsBoolean()
  requiresApproval!: boolean;
}

@InputType()
export class FailureRateGateInput {
  @Field(() => Float, { description: "NEW's failure rate is never above this, percent (and never significantly worse than LEGACY's)." })
  @IsNumber()
  ceilingPercent!: number;

  @Field(() => GateActionValue, { defaultValue: GateActionValue.ROLLBACK })
  @IsIn(Object.values(GateActionValue))
  onFail!: GateActionValue;
}

@InputType()
export class LatencyGateInput {
  @Field(() => Int, { description: '50, 95 or 99.' })
  @IsInt()
  percentile!: number;

  @Field(() => Float, { description: "NEW's percentile at most this many times LEGACY's." })
  @IsNumber()
  maxRatio!: number;

  @Field(() => Float, { description: "NEW's percentile never above this, milliseconds." })
  @IsNumber()
  ceilingMs!: number;

  @Field(() => GateActionValue, { defaultValue: GateActionValue.ROLLBACK })
  @IsIn(Object.values(GateActionValue))
  onFail!: GateActionValue;
}

@InputType()
export class MismatchGateInput {
  @Field(() => Float, { nullable: true, description: "Mismatch rate at or under which the gate passes, percent; the slice's mismatch threshold when absent." })
  @IsOptional()
  @IsNumber()
  thresholdPercent?: number | null;

  @Field(() => GateActionValue, { defaultValue: GateActionValue.ROLLBACK })
  @IsIn(Object.values(GateActionValue))
  onFail!: GateActionValue;
}

@InputType()
export class ObservedShareGateInput {
  @Field(() => Float, { description: 'The NEW share the services report may differ from the configured one by this many points.' })
  @IsNumber()
  tolerancePercent!: number;

  @Field(() => GateActionValue, { defaultValue: GateActionValue.PAUSE })
  @IsIn(Object.values(GateActionValue))
  onFail!: GateActionValue;
}

@InputType({ description: 'Each gate optional: absent is not checked.' })
export class PlanGatesInput {
  @Field(() => FailureRateGateInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => FailureRateGateInput)
  failureRate?: FailureRateGateInput | null;

  @Field(() => LatencyGateInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => LatencyGateInput)
  latency?: LatencyGateInput | null;

  @Field(() => MismatchGateInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => MismatchGateInput)
  mismatch?: MismatchGateInput | null;

  @Field(() => ObservedShareGateInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ObservedShareGateInput)
  observedShare?: ObservedShareGateInput | null;
}

@ArgsType()
export class CreatePlanArgs extends ChangeWithReasonArgs {
  @KeyField('The slice the plan ramps.')
  sliceKey!: string;

  @Field(() => [PlanStepInput], { description: `1 to ${MAX_STEPS} steps, percentages increasing.` })
  @IsArray()
  @ArrayMaxSize(MAX_STEPS + 1) // one more, so that plan-input names the bound
  @ValidateNested({ each: true })
  @Type(() => PlanStepInput)
  steps!: PlanStepInput[];

  @Field(() => PlanGatesInput, { defaultValue: {} })
  @ValidateNested()
  @Type(() => PlanGatesInput)
  gates!: PlanGatesInput;
}

/** start, pause, abort: the slice's open plan. */
@ArgsType()
export class PlanCallArgs extends ChangeWithReasonArgs {
  @KeyField('The slice whose plan this is.')
  sliceKey!: string;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

/** start and resume move the slice to a step's percentage: the reason is required as for setRollout. */
@ArgsType()
export class PlanExposureCallArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice whose plan this is.')
  sliceKey!: string;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class ApprovePlanStepArgs extends ChangeWithReasonArgs {
  @KeyField('The slice whose plan this is.')
  sliceKey!: string;

  @Field(() => Int, { description: 'The step, counted from 1 (as the status shows it).' })
  @IsInt()
  @Min(1)
  @Max(MAX_STEPS)
  step!: number;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class PlanSliceArgs {
  @KeyField('The slice: its open plan, else its newest.')
  sliceKey!: string;
}

@ArgsType()
export class PlansArgs {
  @Field(() => PlanPhaseValue, { nullable: true })
  @IsOptional()
  @IsIn(PLAN_PHASES)
  phase?: PlanPhase | null;

  @FirstField()
  first!: number;

  @AfterField()
  after?: string | null;
}
