import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { OPERATORS, type Operator } from '@switchyard/client-sdk/core';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import type { SegmentRecord } from '../segment-record.js';

/** The operators as a GraphQL enum, built from the decision core's list so they cannot drift. */
export const ConstraintOperator = Object.fromEntries(OPERATORS.map((op) => [op, op])) as { [K in Operator]: K };
registerEnumType(ConstraintOperator, {
  name: 'ConstraintOperator',
  description: 'Unleash constraint operators, with exactly their semantics.',
});

@ObjectType()
export class Constraint {
  @Field({ description: 'Context attribute, e.g. userId, country, appVersion, currentTime.' })
  attribute!: string;

  @Field(() => ConstraintOperator)
  operator!: Operator;

  @Field(() => [String])
  values!: string[];

  @Field()
  inverted!: boolean;

  @Field()
  caseInsensitive!: boolean;
}

@ObjectType({ description: 'A named, reusable set of subjects: every constraint must hold.' })
export class Segment {
  @Field()
  key!: string;

  @Field()
  description!: string;

  @Field(() => [Constraint])
  constraints!: Constraint[];

  @Field(() => Int)
  version!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime)
  updatedAt!: Date;

  static from(r: SegmentRecord): Segment {
    return Object.assign(new Segment(), {
      key: r.key,
      description: r.description,
      constraints: r.constraints.map((c) => ({
        attribute: c.attribute,
        operator: c.operator,
        values: [...c.values],
        inverted: c.inverted === true,
        caseInsensitive: c.caseInsensitive === true,
      })),
      version: r.version,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
    });
  }
}

@ObjectType()
export class SegmentConnection {
  @Field(() => [Segment])
  nodes!: Segment[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
