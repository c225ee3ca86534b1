import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { ApiTokensService } from './api-tokens.service.js';
import { CreateTokenArgs, RevokeTokenArgs } from './dto/token.args.js';
import { ApiToken, CreatedApiToken } from './models/api-token.model.js';
import { Permission } from '../access/roles.js';

@Resolver(() => ApiToken)
export class ApiTokensResolver {
  constructor(private readonly tokensService: ApiTokensService) {}

  @Query(() => [ApiToken], { description: 'Every token, revoked and expired ones included. Never their secrets.' })
  @Requires(Permission.MANAGE_TOKENS)
  async tokens(): Promise<ApiToken[]> {
    const now = new Date();
    return (await this.tokensService.list()).map((t) => ApiToken.from(t, now));
  }

  @Mutation(() => CreatedApiToken)
  @Requires(Permission.MANAGE_TOKENS)
  async createToken(@Args() args: CreateTokenArgs, @CurrentActor() actor: Actor): Promise<CreatedApiToken> {
    const created = await this.tokensService.create(args, actor);
    return { token: ApiToken.from(created.token), secret: created.secret };
  }

  @Mutation(() => ApiToken, { description: 'Takes effect on the next request made with the token.' })
  @Requires(Permission.MANAGE_TOKENS)
  async revokeToken(@Args() args: RevokeTokenArgs, @CurrentActor() actor: Actor): Promise<ApiToken> {
    return ApiToken.from(await this.tokensService.revoke(args, actor));
  }
}
