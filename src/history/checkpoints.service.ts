import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { CHECKPOINT_KEY, type CheckpointKeyHandle } from './checkpoint-key.provider.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import { CheckpointsRepository } from './checkpoints.repository.js';
import { type CheckpointKey, type HistoryCheckpoint, signCheckpoint } from './proof/history-checkpoint.js';
import { HistoryRepository } from './history.repository.js';

/** Signs the head of the history chain, once per position across instances, and publishes it. */
@Injectable()
export class CheckpointsService {
  constructor(
    private readonly checkpoints: CheckpointsRepository,
    private readonly history: HistoryRepository,
    private readonly publisher: CheckpointPublisher,
    @Inject(CHECKPOINT_KEY) private readonly keyHandle: CheckpointKeyHandle,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The signing key, or null when checkpoints are off. */
  get key(): CheckpointKey | null {
    return this.keyHandle.key;
  }

  /** The signing key; CHECKPOINTS_DISABLED when checkpoints are off. */
  requireKey(): CheckpointKey {
    if (this.keyHandle.key === null) {
      throw new SwitchyardException('CHECKPOINTS_DISABLED', 'This service runs with SWITCHYARD_CHECKPOINTS=off: it signs no checkpoints and holds no key to verify one.');
    }
    return this.keyHandle.key;
  }

  /**
   * The checkpoint of the chain's current head: signed now and published when no instance signed
   * that position yet (`published`), else the one recorded. Null while history is empty.
   */
  async checkpointHead(): Promise<{ checkpoint: HistoryCheckpoint; published: boolean } | null> {
    const key = this.requireKey();
    const head = await this.history.head();
    if (head === null) return null;
    const checkpoint = signCheckpoint(key, { position: head.position, headHash: head.hash, signedAt: this.clock.now() });
    if (await this.checkpoints.claim(checkpoint)) {
      await this.publisher.publish(checkpoint);
      return { checkpoint, published: true };
    }
    return { checkpoint: (await this.checkpoints.at(head.position)) ?? checkpoint, published: false };
  }

  /** Newest first. */
  page(first: number, beforePosition: string | null): Promise<HistoryCheckpoint[]> {
    return this.checkpoints.page(first, beforePosition);
  }
}
