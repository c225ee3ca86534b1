import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from '../../common/graphql/json.scalar.js';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import { CHAIN_VERDICTS, type ChainVerdict, type ChainVerdictCode, GENESIS_HASH } from '../proof/hash-chain.js';
import type { HistoryRow } from '../history.repository.js';

const VERDICT_DESCRIPTIONS: Record<ChainVerdictCode, string> = {
  OK: 'Every row verifies (and the checkpoint, if any, holds).',
  MISMATCH_AT_POSITION: 'A row’s hash, link, position or scheme does not verify: see firstBrokenPosition.',
  TRUNCATED: 'The chain ends before the checkpoint’s position: rows were removed from its end (or all of them).',
  CHECKPOINT_MISMATCH: 'The row at the checkpoint’s position has another hash: the chain was rewritten at or before it.',
  BAD_SIGNATURE: 'The checkpoint’s signature does not verify with this service’s key.',
  WRONG_KEY: 'The checkpoint was signed by another key than this service’s (an older one? verify offline with it).',
  CHECKPOINT_OUT_OF_RANGE: 'Offline only: the export does not cover the checkpoint.',
  MALFORMED: 'Offline only: a line of the export is not a history row.',
};
export const HistoryVerdict = Object.fromEntries(CHAIN_VERDICTS.map((v) => [v, v])) as { [K in ChainVerdictCode]: K };
registerEnumType(HistoryVerdict, {
  name: 'HistoryVerdict',
  description: 'What verifyHistory found.',
  valuesMap: Object.fromEntries(CHAIN_VERDICTS.map((v) => [v, { description: VERDICT_DESCRIPTIONS[v] }])),
});

@ObjectType({ description: 'One recorded change. Rows are never updated or deleted.' })
export class HistoryEntry {
  @Field({ description: 'Position in the chain: 1, 2, 3... without gaps (a 64-bit integer, as a string).' })
  position!: string;

  @Field(() => Int, { description: 'How the hash is computed: 1 for rows written before positions existed, 2 since (docs/history.md).' })
  scheme!: number;

  @Field({
    description: 'From a database sequence: increasing, with gaps where a transaction rolled back or the service crashed (not removed rows: see position). The snapshot revision.',
  })
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
  @Field({ description: 'True when every row links to the one before and hashes to its stored hash, positions run from 1 without a gap, and the checkpoint (if any) holds.' })
  ok!: boolean;

  @Field(() => HistoryVerdict)
  verdict!: ChainVerdictCode;

  @Field(() => Int)
  checkedRows!: number;

  @Field(() => String, { nullable: true, description: 'The first position that does not verify: its row altered, missing or out of place.' })
  firstBrokenPosition!: string | null;

  @Field(() => String, { nullable: true, description: 'The sequence of the row where the break was found.' })
  firstBrokenSequence!: string | null;

  @Field({ description: 'Position of the last verified row (0 when none).' })
  headPosition!: string;

  @Field({ description: 'Hash of the last verified row.' })
  headHash!: string;

  @Field(() => String, { nullable: true, description: 'The position of the checkpoint the chain was proven to extend, when one was checked and held.' })
  checkpointPosition!: string | null;

  static from(v: ChainVerdict): HistoryVerification {
    return Object.assign(new HistoryVerification(), { ...v, headHash: v.headHash ?? GENESIS_HASH });
  }
}
