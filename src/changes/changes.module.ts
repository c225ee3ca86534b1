import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { ChangeNoticesRepository } from './change-notices.repository.js';
import { ChangeService } from './change.service.js';
import { CheckpointScheduler } from './checkpoint-scheduler.js';
import { IdempotencyRetention } from './idempotency-retention.service.js';
import { IdempotencyRepository } from './idempotency.repository.js';

/**
 * The write pipeline: ChangeService, through which every other module changes state (append lock,
 * idempotency, the change, its history rows, NOTIFY, all in one transaction); the idempotency keys
 * it records, with their retention; and the checkpoint schedule its commits drive. It appends to
 * HistoryModule's record, which knows nothing of it.
 */
@Module({
  imports: [HistoryModule],
  providers: [IdempotencyRepository, ChangeNoticesRepository, IdempotencyRetention, ChangeService, CheckpointScheduler],
  exports: [ChangeService],
})
export class ChangesModule {}
