import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum PathValue {
  LEGACY = 'LEGACY',
  NEW = 'NEW',
}
registerEnumType(PathValue, { name: 'Path' });

export enum DecisionReasonValue {
  UNKNOWN_SLICE = 'UNKNOWN_SLICE',
  ROLLED_BACK = 'ROLLED_BACK',
  ARCHIVED = 'ARCHIVED',
  SEGMENT_ROLLED_BACK = 'SEGMENT_ROLLED_BACK',
  EXCLUDED = 'EXCLUDED',
  INCLUDED = 'INCLUDED',
  NO_STICKINESS = 'NO_STICKINESS',
  RULE = 'RULE',
  ROLLOUT = 'ROLLOUT',
  ERROR = 'ERROR',
}
registerEnumType(DecisionReasonValue, { name: 'DecisionReason' });

@ObjectType({ description: 'Legacy or new for one subject, and why.' })
export class Decision {
  @Field()
  sliceKey!: string;

  @Field(() => PathValue)
  path!: PathValue;

  @Field(() => DecisionReasonValue)
  reason!: DecisionReasonValue;

  @Field(() => Int, { nullable: true, description: 'Which rule decided (0-based), when reason is RULE.' })
  ruleIndex!: number | null;
}
