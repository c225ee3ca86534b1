import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { SdkMetricsController, SdkMetricsFastRoute } from './traffic.controller.js';
import { InstanceEvidenceRepository } from './instance-evidence.repository.js';
import { InstanceEvidenceService } from './instance-evidence.service.js';
import { KnownSlices } from './known-slices.js';
import { OutcomesRepository } from './outcomes.repository.js';
import { ComparisonOutcomeResolver, SliceOutcomesFieldResolver, SliceOutcomesResolver } from './outcomes.resolver.js';
import { OutcomesService } from './outcomes.service.js';
import { ServedForms } from './served-forms.js';
import { TrafficIngestService } from './traffic-ingest.service.js';
import { TrafficRepository } from './traffic.repository.js';
import { SliceTrafficFieldsResolver, SliceTrafficResolver } from './traffic.resolver.js';
import { TrafficService } from './traffic.service.js';

/**
 * Traffic seen by the services (docs/traffic.md): SDK usage reports in (our SDK here, Unleash SDKs
 * through UnleashCompatModule), aggregated per slice, path, app and minute; read on the Slice type,
 * with the form of the slice each follower is served (ServedForms, which UnleashCompatModule tells);
 * and the outcomes of both paths and shadow comparisons the SDKs send with their reports
 * (docs/outcomes.md), read on the Slice type as `outcomes`.
 */
@Module({
  imports: [HistoryModule],
  controllers: [SdkMetricsController],
  providers: [
    TrafficRepository,
    KnownSlices,
    TrafficIngestService,
    SdkMetricsFastRoute,
    TrafficService,
    ServedForms,
    SliceTrafficFieldsResolver,
    SliceTrafficResolver,
    OutcomesRepository,
    OutcomesService,
    SliceOutcomesFieldResolver,
    SliceOutcomesResolver,
    ComparisonOutcomeResolver,
    InstanceEvidenceRepository,
    InstanceEvidenceService,
  ],
  exports: [TrafficIngestService, ServedForms, OutcomesRepository, InstanceEvidenceRepository, InstanceEvidenceService],
})
export class TrafficModule {}
