import { Module } from '@nestjs/common';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { ChangeService } from './change.service.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryResolver } from './history.resolver.js';
import { HistoryService } from './history.service.js';

/** History, and the change runner that writes it: every other module changes state through it. */
@Module({
  providers: [HistoryRepository, HistoryService, HistoryResolver, IdempotencyRepository, ChangeService],
  exports: [ChangeService, HistoryService, HistoryRepository],
})
export class HistoryModule {}
