import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';

@ArgsType()
export class HistoryArgs {
  @Field(() => String, { nullable: true, description: "One slice's changes; every change when absent (including global actions)." })
  @IsOptional()
  @IsString()
  @Matches(SLICE_KEY_PATTERN, { message: 'sliceKey must be a valid key' })
  sliceKey?: string | null;

  @Field(() => String, { nullable: true, description: "One segment's changes." })
  @IsOptional()
  @IsString()
  @Matches(SLICE_KEY_PATTERN, { message: 'segmentKey must be a valid key' })
  segmentKey?: string | null;

  @Field(() => Int, { defaultValue: 50 })
  @IsInt()
  @Min(1)
  @Max(500)
  first!: number;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page (newest first).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string | null;
}
