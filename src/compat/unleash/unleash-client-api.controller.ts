import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type AuthenticatedRequest, Requires } from '../../auth/auth.decorators.js';
import { Permission } from '../../auth/roles.js';
import { SwitchyardException } from '../../common/errors/switchyard.exception.js';
import { type ClientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';
import { type PublishedToggles, UnleashFeaturesService } from './unleash-features.service.js';
import { UnleashStreamHub } from './unleash-stream-hub.service.js';

/**
 * The Unleash client API, so that official Unleash SDKs (Go, Java, Node, Python...) follow slices:
 * point the SDK's URL at `<switchyard>/api/` with an `sdk` token in `Authorization` (with or
 * without `Bearer `: see UnleashAuthMiddleware). Served from memory, like /sdk/v1.
 */
@Controller('api/client')
export class UnleashClientApiController {
  constructor(
    private readonly features: UnleashFeaturesService,
    private readonly hub: UnleashStreamHub,
    private readonly registry: UnleashClientRegistry,
  ) {}

  /** Every slice as a toggle. `namePrefix` filters as in Unleash; `project` and `tag` are not used (one project). */
  @Get('features')
  @Requires(Permission.READ_CONFIG)
  getFeatures(@Req() req: Request, @Res() res: Response): void {
    const toggles = this.currentOrUnavailable();
    this.registry.recordServed(clientHeaders(req), toggles.revision);
    if (matchesEtag(req.header('if-none-match'), toggles.etag)) {
      res.writeHead(304, { etag: toggles.etag, 'cache-control': 'no-cache' }).end();
      return;
    }
    const namePrefix = typeof req.query.namePrefix === 'string' && req.query.namePrefix !== '' ? req.query.namePrefix : null;
    const body = namePrefix === null ? toggles.body : this.features.filteredBody(toggles, namePrefix);
    res
      .writeHead(200, {
        etag: toggles.etag,
        'cache-control': 'no-cache',
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
      })
      .end(body);
  }

  /** Server-Sent Events for the SDKs' streaming mode (see UnleashStreamHub). */
  @Get('streaming')
  @Requires(Permission.READ_CONFIG)
  stream(@Req() req: AuthenticatedRequest, @Res() res: Response): void {
    // Set by UnleashAuthMiddleware (AuthGuard has checked it): the stream ends with its token.
    this.hub.open(req, res, this.currentOrUnavailable(), clientHeaders(req), req.principal!);
  }

  @Post('register')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  register(@Req() req: Request, @Body() body: unknown): void {
    this.registry.receiveRegistration(body, clientHeaders(req));
  }

  @Post('metrics')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  metrics(@Req() req: Request, @Body() body: unknown): void {
    this.registry.receiveMetrics(body, clientHeaders(req));
  }

  private currentOrUnavailable(): PublishedToggles {
    const toggles = this.features.current();
    if (toggles === null) {
      throw new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'No configuration loaded yet (the database has been unreachable since start); retry shortly.');
    }
    return toggles;
  }
}

/** The SDK's identity headers, and the token it authenticated with (AuthGuard has run: always set here). */
function clientHeaders(req: Request): ClientHeaders {
  const token = (req as AuthenticatedRequest).principal?.name ?? '';
  return { appName: req.header('unleash-appname'), instanceId: req.header('unleash-instanceid'), sdk: req.header('unleash-sdk'), token };
}

/** If-None-Match: a list of (possibly weak) ETags, or `*` (as DeliveryController reads it). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
