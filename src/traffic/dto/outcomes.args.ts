import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { OutcomeWindow } from '../models/outcomes.model.js';
import { MAX_NAME_LENGTH } from '../traffic-report.js';

/** A series step of at most a day; the service widens it further to keep at most 1,440 points. */
export const MAX_STEP_MINUTES = 1_440;
/** Samples listed at most: the service keeps the newest 50 per slice. */
export const MAX_SAMPLES_LISTED = 50;

@ArgsType()
export class SliceOutcomesArgs {
  @Field(() => OutcomeWindow, { defaultValue: OutcomeWindow.LAST_HOUR })
  @IsEnum(OutcomeWindow)
  window!: OutcomeWindow;

  @Field(() => String, { nullable: true, description: 'Only this app (all its instances); every app when absent.' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  appName?: string | null;
}

@ArgsType()
export class OutcomeSeriesArgs {
  @Field(() => Int, {
    defaultValue: 1,
    description: `Minutes per point (1 to ${MAX_STEP_MINUTES}); widened so that a series has at most 1,440 points.`,
  })
  @IsInt()
  @Min(1)
  @Max(MAX_STEP_MINUTES)
  stepMinutes!: number;
}

@ArgsType()
export class MismatchSamplesArgs {
  @Field(() => Int, { defaultValue: 10, description: `The newest this many (1 to ${MAX_SAMPLES_LISTED}).` })
  @IsInt()
  @Min(1)
  @Max(MAX_SAMPLES_LISTED)
  limit!: number;
}
