import { Field, GraphQLISODateTime, Int, ObjectType } from '@nestjs/graphql';
import GraphQLJSON from '../../common/graphql/json.scalar.js';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import type { HistoryRow } from '../history.repository.js';

@ObjectType({ description: 'One recorded change. Rows are never updated or deleted.' })
export class HistoryEntry {
  @Field({ description: 'Position in the chain (a 64-bit integer, as a string).' })
  sequence!: string;

  @Field(() => String, { nullable: true, description: 'Null for global actions (rollbackAll, segments, tokens).' })
  sliceKey!: string | null;

  @Field(() => String, { nullable: true })
  segmentKey!: string | null;

  @Field({ description: 'See HistoryAction.' })
  action!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Complete configuration before the change.' })
  before!: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Complete configuration after the change.' })
  after!: unknown;

  @Field({ description: 'Name of the token that made the change.' })
  actor!: string;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => GraphQLISODateTime)
  recordedAt!: Date;

  @Field()
  prevHash!: string;

  @Field()
  hash!: string;

  static from(r: HistoryRow): HistoryEntry {
    return Object.assign(new HistoryEntry(), { ...r, recordedAt: new Date(r.recordedAt) });
  }
}

@ObjectType()
export class HistoryConnection {
  @Field(() => [HistoryEntry])
  nodes!: HistoryEntry[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class HistoryVerification {
  @Field({ description: 'True when every row links to the one before and hashes to its stored hash.' })
  ok!: boolean;

  @Field(() => Int)
  checkedRows!: number;

  @Field(() => String, { nullable: true, description: 'The first row whose hash or link does not verify.' })
  firstBrokenSequence!: string | null;

  @Field({ description: 'Hash of the last verified row: publish it to anchor the chain externally.' })
  headHash!: string;
}
