import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import type { AuthenticatedRequest } from '../../access/auth.decorators.js';

/**
 * Authenticates Unleash client API requests before AuthGuard runs: official Unleash SDKs send the
 * token as `Authorization: <token>`, without a scheme, which only these routes accept. The guard
 * then finds `req.principal` set (as for GraphQL, authenticated up front) and checks the
 * permission the handler declares. A refusal is thrown into Nest's exception handling, so it is
 * rendered like any other UNAUTHENTICATED.
 */
@Injectable()
export class UnleashAuthMiddleware implements NestMiddleware {
  constructor(private readonly tokens: ApiTokensService) {}

  async use(req: AuthenticatedRequest, _res: Response, next: NextFunction): Promise<void> {
    req.principal = await this.tokens.authenticateHeader(req.header('authorization'), { allowBareToken: true });
    next();
  }
}
