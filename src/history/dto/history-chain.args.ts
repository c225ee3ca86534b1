import { ArgsType, Field, InputType } from '@nestjs/graphql';
import { IsIn, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { AfterField, FirstField } from '../../common/dto/fields.js';
import { POSITION_PATTERN } from '../proof/hash-chain.js';
import { CHECKPOINT_PATTERNS, CHECKPOINT_SCHEME } from '../proof/history-checkpoint.js';

const POSITION_MESSAGE = '$property must be a position: a decimal integer, 1 or more';

@ArgsType()
export class HistoryChainArgs {
  @Field(() => String, { defaultValue: '1', description: 'The first position (1: from genesis).' })
  @IsString()
  @Matches(POSITION_PATTERN, { message: POSITION_MESSAGE })
  fromPosition!: string;

  @Field(() => String, { nullable: true, description: 'The last position; up to the head when absent.' })
  @IsOptional()
  @IsString()
  @Matches(POSITION_PATTERN, { message: POSITION_MESSAGE })
  toPosition?: string | null;

  @FirstField()
  first!: number;
}

@InputType({ description: 'A checkpoint as published (the JSON line of the checkpoint file or log), member for member.' })
export class HistoryCheckpointInput {
  @Field(() => String, { defaultValue: CHECKPOINT_SCHEME })
  @IsIn([CHECKPOINT_SCHEME])
  scheme!: typeof CHECKPOINT_SCHEME;

  @Field()
  @IsString()
  @Matches(CHECKPOINT_PATTERNS.position, { message: POSITION_MESSAGE })
  position!: string;

  @Field()
  @IsString()
  @Matches(CHECKPOINT_PATTERNS.headHash, { message: '$property must be 64 lowercase hex digits' })
  headHash!: string;

  @Field({ description: 'Exactly as published: ISO 8601 UTC with milliseconds (it is part of what was signed).' })
  @IsString()
  @Matches(CHECKPOINT_PATTERNS.signedAt, { message: '$property must be ISO 8601 UTC with milliseconds, as published' })
  signedAt!: string;

  @Field()
  @IsString()
  @Matches(CHECKPOINT_PATTERNS.keyId, { message: '$property must be 32 lowercase hex digits' })
  keyId!: string;

  @Field({ description: 'Base64 Ed25519 signature.' })
  @IsString()
  @Matches(CHECKPOINT_PATTERNS.signature, { message: '$property must be 64 bytes in base64' })
  signature!: string;
}

@ArgsType()
export class VerifyHistoryArgs {
  @Field(() => HistoryCheckpointInput, {
    nullable: true,
    description:
      'Prove the chain extends this published checkpoint. When absent, the newest checkpoint the database holds for this service’s key is used, if any (an adversary with write access can remove those: pass a published one).',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => HistoryCheckpointInput)
  checkpoint?: HistoryCheckpointInput | null;
}

@ArgsType()
export class HistoryCheckpointsArgs {
  @FirstField()
  first!: number;

  @AfterField()
  after?: string | null;
}
