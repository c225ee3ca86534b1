import { Module } from '@nestjs/common';
import { IdempotencyRetention } from '../idempotency/idempotency-retention.service.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { ChangeService } from './change.service.js';
import { checkpointKeyProvider } from './checkpoint-key.provider.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import { CheckpointScheduler } from './checkpoint-scheduler.js';
import { CheckpointsRepository } from './checkpoints.repository.js';
import { CheckpointsResolver } from './checkpoints.resolver.js';
import { CheckpointsService } from './checkpoints.service.js';
import { HistoryPrivilegeCheck } from './history-privilege-check.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryResolver } from './history.resolver.js';
import { HistoryService } from './history.service.js';

/**
 * History, and the change runner that writes it: every other module changes state through it.
 * The idempotency keys it records live here too, with their retention; and the checkpoints that
 * make the chain provable without trusting the database (signing key, schedule, publication).
 */
@Module({
  providers: [
    HistoryRepository,
    HistoryService,
    HistoryResolver,
    IdempotencyRepository,
    IdempotencyRetention,
    ChangeService,
    checkpointKeyProvider,
    CheckpointsRepository,
    CheckpointsService,
    CheckpointPublisher,
    CheckpointScheduler,
    CheckpointsResolver,
    HistoryPrivilegeCheck,
  ],
  exports: [ChangeService, HistoryService, HistoryRepository],
})
export class HistoryModule {}
