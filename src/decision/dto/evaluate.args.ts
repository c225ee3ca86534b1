import { ArgsType, Field } from '@nestjs/graphql';
import { IsObject, IsString, Matches } from 'class-validator';
import { type EvaluationContext, SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import { GraphQLContext } from '../../common/graphql/context.scalar.js';

@ArgsType()
export class EvaluateArgs {
  @Field()
  @IsString()
  @Matches(SLICE_KEY_PATTERN, { message: 'sliceKey must be a valid key' })
  sliceKey!: string;

  @Field(() => GraphQLContext, { description: '{"userId": "42", "country": "KE"}' })
  @IsObject()
  context!: EvaluationContext;
}
