import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { SegmentsRepository } from './segments.repository.js';
import { SegmentsResolver } from './segments.resolver.js';
import { SegmentsService } from './segments.service.js';

@Module({
  imports: [HistoryModule],
  providers: [SegmentsRepository, SegmentsService, SegmentsResolver],
  exports: [SegmentsRepository],
})
export class SegmentsModule {}
