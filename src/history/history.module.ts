import { Module } from '@nestjs/common';
import { checkpointKeyProvider } from './checkpoint-key.provider.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import { CheckpointsRepository } from './checkpoints.repository.js';
import { CheckpointsResolver } from './checkpoints.resolver.js';
import { CheckpointsService } from './checkpoints.service.js';
import { HistoryPrivilegeCheck } from './history-privilege-check.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryResolver } from './history.resolver.js';
import { HistoryService } from './history.service.js';

/**
 * History, the record: reading and verifying the chain, and the checkpoints that make it provable
 * without trusting the database (signing key, publication). What appends to it is ChangesModule.
 */
@Module({
  providers: [
    HistoryRepository,
    HistoryService,
    HistoryResolver,
    checkpointKeyProvider,
    CheckpointsRepository,
    CheckpointsService,
    CheckpointPublisher,
    CheckpointsResolver,
    HistoryPrivilegeCheck,
  ],
  exports: [HistoryService, HistoryRepository, CheckpointsService, CheckpointPublisher],
})
export class HistoryModule {}
