import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { SegmentsRepository } from './segments.repository.js';
import { SegmentsResolver } from './segments.resolver.js';
import { SegmentsService } from './segments.service.js';

@Module({
  imports: [ChangesModule],
  providers: [SegmentsRepository, SegmentsService, SegmentsResolver],
  exports: [SegmentsRepository],
})
export class SegmentsModule {}
