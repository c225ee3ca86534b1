import { ArgsType, Field } from '@nestjs/graphql';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** What every mutation accepts: a retry key and, where it matters, why. */
@ArgsType()
export class ChangeArgs {
  @Field(() => String, {
    nullable: true,
    description: 'A retry with the same key and input returns the first result and writes nothing (keys are kept SWITCHYARD_IDEMPOTENCY_RETENTION_DAYS, 7 by default).',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'idempotencyKey must be 1 to 200 printable ASCII characters' })
  idempotencyKey?: string | null;
}

@ArgsType()
export class ChangeWithReasonArgs extends ChangeArgs {
  @Field(() => String, { nullable: true, description: 'Why: recorded in history.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;
}

/**
 * For changes to who is on NEW (setRollout, setTargeting, resume, archiveSlice): nullable in the
 * schema, which cannot change with configuration, and required at run time unless the service
 * runs with SWITCHYARD_REQUIRE_REASON=false (SlicesService.exposureChange checks it).
 */
@ArgsType()
export class ChangeWithExposureReasonArgs extends ChangeArgs {
  @Field(() => String, {
    nullable: true,
    description: 'Why: recorded in history. Required (not blank) unless the service runs with SWITCHYARD_REQUIRE_REASON=false.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;
}

/** For calls where a reason is always required (rollback, rollbackAll). */
@ArgsType()
export class ChangeWithRequiredReasonArgs extends ChangeArgs {
  @Field({ description: 'Why: required, recorded in history.' })
  @IsString()
  @Matches(/\S/, { message: 'reason must not be blank' })
  @MinLength(1)
  @MaxLength(2000)
  reason!: string;
}
