import { ArgsType, Field } from '@nestjs/graphql';
import { IsOptional, IsString, Matches } from 'class-validator';
import { AfterField, FirstField } from '../../common/dto/fields.js';
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

  @Field(() => String, { nullable: true, description: "The rows of this slice's plans (PLAN_CREATED ... PLAN_ROLLED_BACK, their evidence in after): plan rows have no sliceKey." })
  @IsOptional()
  @IsString()
  @Matches(SLICE_KEY_PATTERN, { message: 'planOf must be a valid key' })
  planOf?: string | null;

  @FirstField()
  first!: number;

  @AfterField()
  after?: string | null;
}
