import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { RollbackResolver } from './rollback.resolver.js';
import { RollbackService } from './rollback.service.js';
import { SegmentRollbackListeners } from './segment-rollback-listeners.js';

@Module({
  imports: [ChangesModule, SlicesModule],
  providers: [RollbackService, RollbackResolver, SegmentRollbackListeners],
  exports: [RollbackService, SegmentRollbackListeners],
})
export class RollbackModule {}
