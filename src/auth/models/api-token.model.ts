import { Field, GraphQLISODateTime, ID, ObjectType } from '@nestjs/graphql';
import type { ApiTokenEntity } from '../api-token.entity.js';
import { RoleName } from '../../access/roles.js';

@ObjectType({ description: 'An API token. Its secret is shown only once, when it is created.' })
export class ApiToken {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => RoleName)
  role!: string;

  @Field()
  createdBy!: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field({ description: 'Neither revoked nor expired.' })
  active!: boolean;

  static from(e: ApiTokenEntity, now: Date = new Date()): ApiToken {
    return Object.assign(new ApiToken(), {
      id: e.id,
      name: e.name,
      // Stored as 'release-manager'; the Role enum serializes it as RELEASE_MANAGER.
      role: e.role,
      createdBy: e.createdBy,
      createdAt: e.createdAt,
      expiresAt: e.expiresAt,
      revokedAt: e.revokedAt,
      active: e.revokedAt === null && (e.expiresAt === null || e.expiresAt > now),
    });
  }
}

@ObjectType()
export class CreatedApiToken {
  @Field(() => ApiToken)
  token!: ApiToken;

  @Field(() => String, {
    nullable: true,
    description: 'The bearer secret. Shown once: store it now; only its hash is kept (null on an idempotent retry).',
  })
  secret!: string | null;
}
