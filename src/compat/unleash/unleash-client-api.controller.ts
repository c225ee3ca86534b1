import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { type AuthenticatedRequest, Requires } from '../../access/auth.decorators.js';
import { Permission } from '../../access/roles.js';
import { clientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';

/**
 * What Unleash SDKs POST: their registration and usage metrics, with an `sdk` token in
 * `Authorization` (with or without `Bearer `: see UnleashAuthMiddleware). The endpoints they poll
 * and stream (GET /api/client/features, /api/client/streaming) are on the fast path: see
 * UnleashHttpRoutes.
 */
@Controller('api/client')
export class UnleashClientApiController {
  constructor(private readonly registry: UnleashClientRegistry) {}

  @Post('register')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  register(@Req() req: AuthenticatedRequest, @Body() body: unknown): void {
    this.registry.receiveRegistration(body, clientHeaders(req, req.principal?.name ?? ''));
  }

  @Post('metrics')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  metrics(@Req() req: AuthenticatedRequest, @Body() body: unknown): void {
    this.registry.receiveMetrics(body, clientHeaders(req, req.principal?.name ?? ''));
  }
}
