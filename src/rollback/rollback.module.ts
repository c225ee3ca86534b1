import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { RollbackResolver } from './rollback.resolver.js';
import { RollbackService } from './rollback.service.js';

@Module({
  imports: [ChangesModule, SlicesModule],
  providers: [RollbackService, RollbackResolver],
  exports: [RollbackService],
})
export class RollbackModule {}
