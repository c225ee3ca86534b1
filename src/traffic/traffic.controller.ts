import type { Response } from 'express';
import { Body, Controller, HttpCode, Inject, Injectable, type OnModuleInit, Post, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type AuthenticatedRequest, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { DeliveryHttpHandler } from '../delivery/delivery-http.handler.js';
import { TrafficIngestService } from './traffic-ingest.service.js';
import { COMPACT_OUTCOMES_FORMATS } from './traffic-report.js';

/** The SDK's usage report (client-sdk/PROTOCOL.md, "Usage reports"; docs/outcomes.md). */
export const SDK_METRICS_PATH = '/sdk/v1/metrics';

/**
 * Sent with every 202 of the endpoint: the versions of the compact outcome form this service reads
 * (docs/outcomes.md, "The compact form"). An SDK switches to it only once told so, and back when an
 * answer lacks it (an older instance behind the same load balancer).
 */
export const COMPACT_OUTCOMES_HEADER = 'switchyard-compact-outcomes';
const COMPACT_OUTCOMES_VALUE = COMPACT_OUTCOMES_FORMATS.join(', ');

/**
 * The same reports as a stream (client-sdk/PROTOCOL.md, "The report stream"): one long-lived POST
 * of `application/x-ndjson`, a report per line, each answered by a line. Named in every 202 of
 * the endpoint (REPORT_STREAM_HEADER), so an SDK opens it only on a service that has it.
 */
export const SDK_METRICS_STREAM_PATH = '/sdk/v1/metrics/stream';
export const REPORT_STREAM_HEADER = 'switchyard-report-stream';

/**
 * `POST /sdk/v1/metrics`, answered on the HTTP fast path (DeliveryHttpHandler: before Express,
 * with the same token check and role rule as /sdk/v1/snapshot, READ_CONFIG, the same request id,
 * error body and shutdown behaviour, and the body rules of every JSON body: common/http/json-body.ts).
 *
 * Why not only the controller below: an SDK reports its watched slices every 2 s, so a fleet of
 * 1,000 instances sends 500 reports a second, and the Express/Nest pipeline (body parsers,
 * router, middleware, guard, interceptors) cost more CPU than the report itself: `npm run
 * bench:outcomes` measured the service at 28 to 34 % of a core on a shared machine with it (see
 * docs/outcomes.md for the figures after).
 *
 * 202 as soon as the report is validated and buffered (or dropped for a limit: counted, see
 * TrafficIngestService): the database is written later, in batches, and its being down never
 * fails the SDK's request. 400 for a report of the wrong shape or with implausible counts.
 */
@Injectable()
export class SdkMetricsFastRoute implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly ingest: TrafficIngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Through ModuleRef, as UnleashHttpRoutes does: TrafficModule does not import DeliveryModule.
    const delivery = this.moduleRef.get(DeliveryHttpHandler, { strict: false });
    delivery.route({
      method: 'POST',
      path: SDK_METRICS_PATH,
      bareToken: false,
      receive: (body, principal) => this.ingest.receiveSdkReport(body, principal.name),
      acceptedHeaders: acceptedHeaders(this.config),
      // SWITCHYARD_REPORT_STREAM=false: neither named nor served (a POST there is Express's 404).
      ...(this.config.reportStream ? { streamPath: SDK_METRICS_STREAM_PATH } : {}),
    });
  }
}

/**
 * The same endpoint through Express, for the requests the fast path leaves to it: a compressed
 * body (Content-Encoding), another content type or charset. Same answers: the global AuthGuard,
 * body parser (SWITCHYARD_MAX_BODY_BYTES), storable-text check and error filter.
 */
@Controller('sdk/v1')
export class SdkMetricsController {
  constructor(
    private readonly ingest: TrafficIngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('metrics')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  report(@Req() req: AuthenticatedRequest, @Body() body: unknown, @Res({ passthrough: true }) res: Response): void {
    // AuthGuard has run (the route requires a permission): the principal is set.
    this.ingest.receiveSdkReport(body, req.principal!.name);
    res.set(acceptedHeaders(this.config));
  }
}

/** The 202's headers: the compact forms read, and the report stream when offered. */
function acceptedHeaders(config: AppConfig): Record<string, string> {
  return { [COMPACT_OUTCOMES_HEADER]: COMPACT_OUTCOMES_VALUE, ...(config.reportStream ? { [REPORT_STREAM_HEADER]: SDK_METRICS_STREAM_PATH } : {}) };
}
