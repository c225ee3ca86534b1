import { Field, ObjectType } from '@nestjs/graphql';
import { PageInfo } from '../../common/graphql/page-info.model.js';
import type { CheckpointKey, HistoryCheckpoint as Checkpoint } from '../proof/history-checkpoint.js';

@ObjectType({
  description:
    'A signed statement that the history chain had this head at this position (docs/history.md). Publish it outside Switchyard; verify a chain against it with verifyHistory(checkpoint:) or offline.',
})
export class HistoryCheckpoint {
  @Field({ description: 'switchyard-checkpoint-v1' })
  scheme!: string;

  @Field({ description: 'Position of the head row (a 64-bit integer, as a string).' })
  position!: string;

  @Field({ description: 'Hash of the head row.' })
  headHash!: string;

  @Field({ description: 'When it was signed, by the service’s clock: ISO 8601 UTC with milliseconds, exactly as signed.' })
  signedAt!: string;

  @Field({ description: 'Which key signed it: see HistoryCheckpointKey.' })
  keyId!: string;

  @Field({ description: 'Ed25519 signature, base64.' })
  signature!: string;

  static from(c: Checkpoint): HistoryCheckpoint {
    const { scheme, position, headHash, signedAt, keyId, signature } = c;
    return Object.assign(new HistoryCheckpoint(), { scheme, position, headHash, signedAt, keyId, signature });
  }
}

@ObjectType()
export class HistoryCheckpointConnection {
  @Field(() => [HistoryCheckpoint])
  nodes!: HistoryCheckpoint[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'The public half of the key that signs checkpoints. Keep a copy outside Switchyard to verify with.' })
export class HistoryCheckpointKey {
  @Field({ description: 'Ed25519' })
  algorithm!: string;

  @Field({ description: 'First 32 hex digits of SHA-256 over the raw 32-byte public key.' })
  keyId!: string;

  @Field({ description: 'SubjectPublicKeyInfo PEM.' })
  publicKeyPem!: string;

  @Field({ description: 'The raw 32-byte key, base64.' })
  publicKey!: string;

  static from(key: CheckpointKey): HistoryCheckpointKey {
    return Object.assign(new HistoryCheckpointKey(), { algorithm: 'Ed25519', keyId: key.keyId, publicKeyPem: key.publicKeyPem, publicKey: key.publicKeyBase64 });
  }
}
