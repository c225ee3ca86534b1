import { Field, Float, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { basisPointsToPercent } from '@switchyard/client-sdk/core';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import { observationOf, rolledBackSegmentsOf, type SliceRecord } from '../slice-record.js';

export enum SliceStateValue {
  ACTIVE = 'ACTIVE',
  ROLLED_BACK = 'ROLLED_BACK',
  ARCHIVED = 'ARCHIVED',
}
registerEnumType(SliceStateValue, {
  name: 'SliceState',
  description: 'ACTIVE follows its rollout and targeting; ROLLED_BACK and ARCHIVED send everyone to LEGACY.',
});

@ObjectType({ description: 'Subjects in all these segments get this percentage (the first matching rule wins).' })
export class Rule {
  @Field(() => [String])
  segments!: string[];

  @Field(() => Float)
  percent!: number;

  @Field(() => Int)
  basisPoints!: number;
}

@ObjectType()
export class Targeting {
  @Field(() => [String], { description: 'Segments forced to NEW.' })
  include!: string[];

  @Field(() => [String], { description: 'Segments forced to LEGACY; exclude always wins.' })
  exclude!: string[];

  @Field(() => [Rule], { description: 'Ordered: the first rule whose segments all match decides the percentage.' })
  rules!: Rule[];
}

@ObjectType({ description: 'One independently migrated unit: an API route, a payment provider, a job.' })
export class Slice {
  @Field()
  key!: string;

  @Field()
  description!: string;

  @Field()
  owner!: string;

  @Field(() => [String])
  tags!: string[];

  @Field({ description: 'The context attribute that identifies a subject.' })
  stickinessAttribute!: string;

  @Field(() => Float, { description: 'Share of subjects on NEW, 0 to 100, two decimals at most.' })
  percent!: number;

  @Field(() => Int, { description: 'The same share in basis points (0 to 10000).' })
  basisPoints!: number;

  @Field(() => Targeting)
  targeting!: Targeting;

  @Field(() => SliceStateValue)
  state!: SliceStateValue;

  @Field(() => [String], {
    description:
      'Segments rolled back on this slice (rollbackSegment), sorted: their subjects are on LEGACY (reason SEGMENT_ROLLED_BACK) whatever the targeting says; resumeSegment lifts one (docs/segment-rollback.md).',
  })
  rolledBackSegments!: string[];

  @Field({ description: "SDKs report this slice's outcomes every few seconds instead of every interval (docs/outcomes.md)." })
  watched!: boolean;

  @Field(() => Float, { description: 'Share of compare calls that also run the path not served, 0 to 100 (docs/outcomes.md).' })
  shadowPercent!: number;

  @Field(() => Float, { description: 'Mismatch rate at or under which comparisons are WITHIN, 0 to 100 (0.1 by default).' })
  mismatchThresholdPercent!: number;

  @Field(() => Int, { description: 'Increases with every change; pass it as expectedVersion to refuse stale writes.' })
  version!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime)
  updatedAt!: Date;

  static from(r: SliceRecord): Slice {
    const observation = observationOf(r);
    return Object.assign(new Slice(), {
      key: r.key,
      description: r.description,
      owner: r.owner,
      tags: [...r.tags],
      stickinessAttribute: r.stickinessAttribute,
      percent: basisPointsToPercent(r.basisPoints),
      basisPoints: r.basisPoints,
      targeting: {
        include: [...r.targeting.include],
        exclude: [...r.targeting.exclude],
        rules: r.targeting.rules.map((rule) => ({
          segments: [...rule.segments],
          percent: basisPointsToPercent(rule.basisPoints),
          basisPoints: rule.basisPoints,
        })),
      },
      state: r.state as SliceStateValue,
      rolledBackSegments: [...rolledBackSegmentsOf(r)],
      watched: observation.watched,
      shadowPercent: basisPointsToPercent(observation.shadowBasisPoints),
      mismatchThresholdPercent: observation.mismatchThresholdPpm / 10_000,
      version: r.version,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
    });
  }
}

@ObjectType()
export class SliceConnection {
  @Field(() => [Slice])
  nodes!: Slice[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class RollbackAllResult {
  @Field(() => Int, { description: 'How many slices this call sent back to LEGACY.' })
  count!: number;

  @Field(() => [String])
  sliceKeys!: string[];
}
