import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { HistoryModule } from '../history/history.module.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { ExposureGuards } from './exposure-guards.js';
import { SliceLastChangeResolver } from './slice-last-change.resolver.js';
import { SlicesRepository } from './slices.repository.js';
import { SlicesResolver } from './slices.resolver.js';
import { SlicesService } from './slices.service.js';

@Module({
  imports: [ChangesModule, SegmentsModule, HistoryModule],
  providers: [ExposureGuards, SlicesRepository, SlicesService, SlicesResolver, SliceLastChangeResolver],
  exports: [ExposureGuards, SlicesRepository, SlicesService],
})
export class SlicesModule {}
