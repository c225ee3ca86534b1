import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Requires } from '../auth/auth.decorators.js';
import { Permission } from '../auth/roles.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { parseSdkReport } from './traffic-report.js';
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
 * 202 as soon as the report is validated and buffered: the database is written later, in batches,
 * and its being down never fails the SDK's request (TrafficIngestService).
 */
@Controller('sdk/v1')
export class SdkMetricsController {
  constructor(private readonly ingest: TrafficIngestService) {}

  @Post('metrics')
  @HttpCode(202)
  @Requires(Permission.READ_CONFIG)
  report(@Body() body: unknown): void {
    const parsed = parseSdkReport(body);
    if (!parsed.ok) throw new InvalidInputException(parsed.violations);
    this.ingest.recordSdkReport(parsed.value);
  }
}
