import { ArgsType, Field, Float, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ATTRIBUTE_NAME_PATTERN, SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import { applyDecorators } from '@nestjs/common';
import { AfterField, ExpectedVersionField, FirstField, KeyField } from '../../common/dto/fields.js';
import { ChangeWithExposureReasonArgs, ChangeWithReasonArgs, ChangeWithRequiredReasonArgs } from '../../common/dto/change.args.js';
import { IsFinePercent, IsPercent } from '../../common/validation/validation.js';
import { MAX_TAGS, TAG_PATTERN } from '../../common/validation/patterns.js';
import { SliceStateValue } from '../models/slice.model.js';

/** An admin's reason to raise exposure during a freeze window (setRollout, setTargeting, resume). */
const FreezeOverrideField = () =>
  applyDecorators(
    Field(() => String, {
      nullable: true,
      description: 'Admins only: raise exposure during a freeze window anyway, saying why (recorded in history as FREEZE_OVERRIDDEN).',
    }),
    IsOptional(),
    IsString(),
    Matches(/\S/, { message: 'freezeOverride must not be blank' }),
    MaxLength(2000),
  );

const MAX_TARGETING_SEGMENTS = 100;

@InputType()
export class RuleInput {
  @Field(() => [String], { description: 'All of these segments must match.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @Matches(SLICE_KEY_PATTERN, { each: true, message: 'each segment key must be a valid key' })
  segments!: string[];

  @Field(() => Float)
  @IsPercent()
  percent!: number;
}

@InputType()
export class TargetingInput {
  @Field(() => [String], { defaultValue: [] })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @Matches(SLICE_KEY_PATTERN, { each: true, message: 'each segment key must be a valid key' })
  include!: string[];

  @Field(() => [String], { defaultValue: [] })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @Matches(SLICE_KEY_PATTERN, { each: true, message: 'each segment key must be a valid key' })
  exclude!: string[];

  @Field(() => [RuleInput], { defaultValue: [] })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @ValidateNested({ each: true })
  @Type(() => RuleInput)
  rules!: RuleInput[];
}

@ArgsType()
export class CreateSliceArgs extends ChangeWithReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @Field({ defaultValue: '' })
  @IsString()
  @MaxLength(2000)
  description!: string;

  @Field({ defaultValue: '', description: 'Team or person accountable for this slice.' })
  @IsString()
  @MaxLength(200)
  owner!: string;

  @Field(() => [String], { defaultValue: [] })
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be lowercase: a-z 0-9 . _ : / - (up to 64)' })
  tags!: string[];

  @Field({ defaultValue: 'userId' })
  @IsString()
  @Matches(ATTRIBUTE_NAME_PATTERN, { message: 'stickinessAttribute must be an attribute name' })
  stickinessAttribute!: string;

  @Field(() => Float, { defaultValue: 0, description: 'Initial share on NEW; 0 unless you say so.' })
  @IsPercent()
  percent!: number;

  @Field(() => TargetingInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => TargetingInput)
  targeting?: TargetingInput | null;

  @FreezeOverrideField()
  freezeOverride?: string | null;
}

@ArgsType()
export class UpdateSliceArgs extends ChangeWithReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  owner?: string | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be lowercase: a-z 0-9 . _ : / - (up to 64)' })
  tags?: string[] | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class SetRolloutArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @Field(() => Float, { description: 'Share on NEW, 0 to 100, two decimals at most (0.25 is a quarter of a percent).' })
  @IsPercent()
  percent!: number;

  @FreezeOverrideField()
  freezeOverride?: string | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

/**
 * Observation settings (docs/outcomes.md, "Slice settings"): each one absent (or null) stays as it
 * is; at least one must be given (SlicesService.setObservation). They change no decision, so the
 * reason is optional, as for updateSlice.
 */
@ArgsType()
export class SetObservationArgs extends ChangeWithReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @Field(() => Boolean, { nullable: true, description: 'SDKs report this slice every few seconds instead of every interval.' })
  @IsOptional()
  @IsBoolean()
  watched?: boolean | null;

  @Field(() => Float, { nullable: true, description: 'Share of compare calls that also run the path not served: 0 to 100, two decimals at most.' })
  @IsOptional()
  @IsPercent()
  shadowPercent?: number | null;

  @Field(() => Float, { nullable: true, description: 'Mismatch rate at or under which comparisons are WITHIN: 0 to 100, four decimals at most (0.1 by default).' })
  @IsOptional()
  @IsFinePercent()
  mismatchThresholdPercent?: number | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class SetTargetingArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @Field(() => [String], { defaultValue: [], description: 'Segments forced to NEW.' })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @Matches(SLICE_KEY_PATTERN, { each: true, message: 'each segment key must be a valid key' })
  include!: string[];

  @Field(() => [String], { defaultValue: [], description: 'Segments forced to LEGACY (always wins).' })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @Matches(SLICE_KEY_PATTERN, { each: true, message: 'each segment key must be a valid key' })
  exclude!: string[];

  @Field(() => [RuleInput], { defaultValue: [], description: 'Ordered; the first matching rule decides the percentage.' })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETING_SEGMENTS)
  @ValidateNested({ each: true })
  @Type(() => RuleInput)
  rules!: RuleInput[];

  @Field(() => String, {
    nullable: true,
    description: 'Change the attribute that identifies a subject. Reshuffles who is on NEW: use with care.',
  })
  @IsOptional()
  @IsString()
  @Matches(ATTRIBUTE_NAME_PATTERN, { message: 'stickinessAttribute must be an attribute name' })
  stickinessAttribute?: string | null;

  @FreezeOverrideField()
  freezeOverride?: string | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class RollbackArgs extends ChangeWithRequiredReasonArgs {
  @KeyField('The slice key.')
  key!: string;
}

@ArgsType()
export class RollbackAllArgs extends ChangeWithRequiredReasonArgs {
  @Field(() => String, { nullable: true, description: 'Only slices with this tag; every ACTIVE slice when absent.' })
  @IsOptional()
  @IsString()
  @Matches(TAG_PATTERN, { message: 'tag must be a valid tag' })
  tag?: string | null;
}

/** rollbackSegment: like rollback, a reason always, no expected version (docs/segment-rollback.md). */
@ArgsType()
export class RollbackSegmentArgs extends ChangeWithRequiredReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @KeyField('The segment whose subjects go to LEGACY on this slice: any existing segment, named in the targeting or not.')
  segment!: string;
}

/** resumeSegment: an exposure change, like resume (reason at run time, freeze windows, plans). */
@ArgsType()
export class ResumeSegmentArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @KeyField('The rolled-back segment to bring back: its subjects decide by the targeting again.')
  segment!: string;

  @FreezeOverrideField()
  freezeOverride?: string | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

// The reason is checked at run time (SlicesService.exposureChange), like setRollout's: the schema
// cannot change with SWITCHYARD_REQUIRE_REASON.
@ArgsType()
export class ResumeArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @FreezeOverrideField()
  freezeOverride?: string | null;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class ArchiveSliceArgs extends ChangeWithExposureReasonArgs {
  @KeyField('The slice key.')
  key!: string;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class SliceKeyArgs {
  @KeyField('The slice key.')
  key!: string;
}

@ArgsType()
export class SlicesArgs {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @Matches(TAG_PATTERN, { message: 'tag must be a valid tag' })
  tag?: string | null;

  @Field(() => SliceStateValue, { nullable: true })
  @IsOptional()
  @IsIn(Object.values(SliceStateValue))
  state?: SliceStateValue | null;

  @FirstField()
  first!: number;

  @AfterField()
  after?: string | null;
}
