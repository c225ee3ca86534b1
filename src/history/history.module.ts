import { Module } from '@nestjs/common';
import { IdempotencyRetention } from '../idempotency/idempotency-retention.service.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { ChangeService } from './change.service.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryResolver } from './history.resolver.js';
import { HistoryService } from './history.service.js';

/**
 * History, and the change runner that writes it: every other module changes state through it.
 * The idempotency keys it records live here too, with their retention.
 */
@Module({
  providers: [HistoryRepository, HistoryService, HistoryResolver, IdempotencyRepository, IdempotencyRetention, ChangeService],
  exports: [ChangeService, HistoryService, HistoryRepository],
})
export class HistoryModule {}
