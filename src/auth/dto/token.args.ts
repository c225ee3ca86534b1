import { ArgsType, Field, GraphQLISODateTime, ID } from '@nestjs/graphql';
import { IsDate, IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { Type } from 'class-transformer';
import { ChangeWithReasonArgs } from '../../common/dto/change.args.js';
import { ROLES, type Role, RoleName } from '../../access/roles.js';

@ArgsType()
export class CreateTokenArgs extends ChangeWithReasonArgs {
  @Field({ description: 'Unique; recorded as the actor of every change made with the token.' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ._@:/-]{0,99}$/, { message: 'name must be 1 to 100 letters, digits, spaces or ._@:/-' })
  name!: string;

  @Field(() => RoleName)
  @IsIn(ROLES)
  role!: Role;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'No expiry when absent.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date | null;
}

@ArgsType()
export class RevokeTokenArgs extends ChangeWithReasonArgs {
  @Field(() => ID)
  @IsUUID()
  id!: string;
}
