import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { RollbackResolver } from './rollback.resolver.js';
import { RollbackService } from './rollback.service.js';

@Module({
  imports: [HistoryModule, SlicesModule],
  providers: [RollbackService, RollbackResolver],
})
export class RollbackModule {}
