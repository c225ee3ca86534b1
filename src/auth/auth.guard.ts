import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PERMISSION_KEY, PUBLIC_KEY, requestOf } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { ApiTokensService } from './api-tokens.service.js';
import { type Permission, roleGrants } from './roles.js';

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/**
 * Global guard: every GraphQL operation and HTTP route needs a valid bearer token whose role
 * grants the permission the handler declares. A handler that declares none is refused
 * (fail closed), so forgetting `@Requires` cannot open an endpoint.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ApiTokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = requestOf(context);
    const match = BEARER.exec(req.header('authorization') ?? '');
    if (match === null) throw AuthException.unauthenticated();
    const principal = await this.tokens.authenticate(match[1]!);
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
