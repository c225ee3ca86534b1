import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { type AuthenticatedRequest, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { TrafficIngestService } from './traffic-ingest.service.js';

/**
 * `POST /sdk/v1/metrics`: the SDK's usage report (client-sdk/PROTOCOL.md, "Usage reports").
 *
 * A controller, not a route of DeliveryHttpHandler: an SDK instance reports about once a minute,
 * not once per request of its host, so Express's ~250 µs per request does not matter here, and
 * the controller gets the body parser (with SWITCHYARD_MAX_BODY_BYTES), the global AuthGuard, the
 * error filter and request instrumentation like every other route. The same token and role rule
 * as /sdk/v1/snapshot: READ_CONFIG, so a token of role `sdk` is enough.
 *
 * 202 as soon as the report is validated and buffered (or dropped for a limit: counted, see
 * TrafficIngestService): the database is written later, in batches, and its being down never
 * fails the SDK's request. 400 for a report of the wrong shape or with implausible counts.
 */
@Controller('sdk/v1')
export class SdkMetricsController {
  constructor(private readonly ingest: TrafficIngestService) {}

  @Post('metrics')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  report(@Req() req: AuthenticatedRequest, @Body() body: unknown): void {
    // AuthGuard has run (the route requires a permission): the principal is set.
    this.ingest.receiveSdkReport(body, req.principal!.name);
  }
}
