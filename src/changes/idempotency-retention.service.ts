import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { IdempotencyRepository } from './idempotency.repository.js';

const DAY_MS = 24 * 60 * 60_000;
/** How often expired keys are deleted; the first run comes a minute after start. */
const PRUNE_EVERY_MS = 60 * 60_000;
const FIRST_PRUNE_AFTER_MS = 60_000;

/**
 * Deletes idempotency keys older than SWITCHYARD_IDEMPOTENCY_RETENTION_DAYS: every mutation sent
 * with a key (every CLI change has one) adds a row, and the table would otherwise grow forever.
 * A retry comes seconds or minutes after a lost answer, not days. Every instance runs it; the
 * deletes are idempotent.
 */
@Injectable()
export class IdempotencyRetention implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyRetention.name);
  private stop: (() => void) | undefined;

  constructor(
    private readonly repository: IdempotencyRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.stop = startPeriodicTask(() => this.prune(), {
      firstAfterMs: FIRST_PRUNE_AFTER_MS,
      everyMs: PRUNE_EVERY_MS,
      onError: (error) => this.logger.warn({ msg: 'pruning old idempotency keys failed; retried later', error: String((error as Error)?.message ?? error) }),
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  /** Deletes the keys older than the retention, as of `now`. Returns how many went. */
  async prune(now: number = Date.now()): Promise<number> {
    const before = new Date(now - this.config.idempotencyRetentionDays * DAY_MS);
    const deleted = await this.repository.prune(before);
    if (deleted > 0) this.logger.log({ msg: 'old idempotency keys pruned', before: before.toISOString(), deleted });
    return deleted;
  }
}
