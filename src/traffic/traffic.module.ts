import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { SdkMetricsController } from './traffic.controller.js';
import { KnownSlices } from './known-slices.js';
import { TrafficIngestService } from './traffic-ingest.service.js';
import { TrafficRepository } from './traffic.repository.js';
import { SliceTrafficFieldsResolver, SliceTrafficResolver } from './traffic.resolver.js';
import { TrafficService } from './traffic.service.js';

/**
 * Traffic seen by the services (docs/traffic.md): SDK usage reports in (our SDK here, Unleash SDKs
 * through UnleashCompatModule), aggregated per slice, path, app and minute; read on the Slice type.
 */
@Module({
  imports: [HistoryModule],
  controllers: [SdkMetricsController],
  providers: [TrafficRepository, KnownSlices, TrafficIngestService, TrafficService, SliceTrafficFieldsResolver, SliceTrafficResolver],
  exports: [TrafficIngestService],
})
export class TrafficModule {}
