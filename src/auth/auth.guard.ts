import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PERMISSION_KEY, PUBLIC_KEY, requestOf } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { RequestAuthenticator } from './request-authenticator.js';
import { type Permission, roleGrants } from '../access/roles.js';

/**
 * Global guard: every GraphQL operation and HTTP route needs a valid bearer token (or console session) whose role
 * grants the permission the handler declares. (GraphQL requests are authenticated earlier, for
 * the whole request, so that not even introspection answers without a token.) A handler that declares none is refused
 * (fail closed), so forgetting `@Requires` cannot open an endpoint.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = requestOf(context);
    // GraphQL requests were authenticated once, before parsing (see graphql.config.ts).
    const principal = req.principal ?? (await this.authenticator.authenticate(req));
    req.principal = principal;

    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, targets);
    if (permission === undefined) {
      this.logger.error({ msg: 'handler declares no permission; refused', handler: context.getHandler().name });
      throw AuthException.forbidden(principal.role, 'an undeclared permission');
    }
    if (!roleGrants(principal.role, permission)) throw AuthException.forbidden(principal.role, permission);
    return true;
  }
}
