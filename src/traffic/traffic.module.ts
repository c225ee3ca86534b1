import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { SdkMetricsController } from './traffic.controller.js';
import { KnownSlices } from './known-slices.js';
import { ServedForms } from './served-forms.js';
import { TrafficIngestService } from './traffic-ingest.service.js';
import { TrafficRepository } from './traffic.repository.js';
import { SliceTrafficFieldsResolver, SliceTrafficResolver } from './traffic.resolver.js';
import { TrafficService } from './traffic.service.js';

/**
 * Traffic seen by the services (docs/traffic.md): SDK usage reports in (our SDK here, Unleash SDKs
 * through UnleashCompatModule), aggregated per slice, path, app and minute; read on the Slice type,
 * with the form of the slice each follower is served (ServedForms, which UnleashCompatModule tells).
 */
@Module({
  imports: [HistoryModule],
  controllers: [SdkMetricsController],
  providers: [TrafficRepository, KnownSlices, TrafficIngestService, TrafficService, ServedForms, SliceTrafficFieldsResolver, SliceTrafficResolver],
  exports: [TrafficIngestService, ServedForms],
})
export class TrafficModule {}
