import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { SlicesRepository } from './slices.repository.js';
import { SlicesResolver } from './slices.resolver.js';
import { SlicesService } from './slices.service.js';

@Module({
  imports: [ChangesModule, SegmentsModule],
  providers: [SlicesRepository, SlicesService, SlicesResolver],
  exports: [SlicesRepository, SlicesService],
})
export class SlicesModule {}
