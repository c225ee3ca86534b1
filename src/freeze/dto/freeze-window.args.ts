import { ArgsType, Field, GraphQLISODateTime, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDate, IsInt, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ExpectedVersionField, KeyField } from '../../common/dto/fields.js';
import { ChangeWithReasonArgs } from '../../common/dto/change.args.js';
import { TAG_PATTERN } from '../../common/validation/patterns.js';

/**
 * A recurring schedule: starts at `at` (local) on the days the selectors name, lasts `duration`.
 * Days 25 to 27 of every month, all day: daysOfMonth [25], at "00:00", duration "3d".
 */
@InputType()
export class FreezeRecurrenceInput {
  @Field(() => [Int], { nullable: true, description: 'Days of the month it starts on, 1 to 31 (a month without the day starts nothing). Absent: every day.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(31)
  @IsInt({ each: true })
  daysOfMonth?: number[] | null;

  @Field(() => [Int], { nullable: true, description: 'ISO weekdays it starts on, 1 (Monday) to 7 (Sunday); with daysOfMonth, both must hold. Absent: every day.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(7)
  @IsInt({ each: true })
  weekdays?: number[] | null;

  @Field({ defaultValue: '00:00', description: 'Local start time, HH:MM.' })
  @IsString()
  @MaxLength(5)
  at!: string;

  @Field({ description: '3d, 6h, 30m or 1d12h: days are local calendar days, hours and minutes elapsed time; at most 31d.' })
  @IsString()
  @MaxLength(20)
  duration!: string;
}

/** A whole window: created with it, and replaced by it as a whole on update (like setTargeting). */
@ArgsType()
export class FreezeWindowArgs extends ChangeWithReasonArgs {
  @KeyField('The window key, e.g. salary-run.')
  key!: string;

  @Field({ defaultValue: '' })
  @IsString()
  @MaxLength(2000)
  description!: string;

  @Field({ description: 'IANA time zone the local times and days are read in, e.g. Africa/Nairobi.' })
  @IsString()
  @MaxLength(64)
  timeZone!: string;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'One-off window: its first instant (give until too, not recurrence).' })
  @IsOptional()
  @IsDate()
  from?: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'One-off window: the instant it ends (exclusive).' })
  @IsOptional()
  @IsDate()
  until?: Date | null;

  @Field(() => FreezeRecurrenceInput, { nullable: true, description: 'Recurring window (instead of from and until).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => FreezeRecurrenceInput)
  recurrence?: FreezeRecurrenceInput | null;

  @Field(() => String, { nullable: true, description: 'Only slices with this tag; every slice when absent.' })
  @IsOptional()
  @IsString()
  @Matches(TAG_PATTERN, { message: 'tag must be a valid tag' })
  tag?: string | null;
}

@ArgsType()
export class UpdateFreezeWindowArgs extends FreezeWindowArgs {
  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class DeleteFreezeWindowArgs extends ChangeWithReasonArgs {
  @KeyField('The window key.')
  key!: string;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class FreezeWindowKeyArgs {
  @KeyField('The window key.')
  key!: string;
}
