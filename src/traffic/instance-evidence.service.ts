import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { InstanceEvidenceBuffer } from './instance-evidence.js';
import { InstanceEvidenceRepository } from './instance-evidence.repository.js';
import { KnownSlices } from './known-slices.js';
import { TrafficIngestService } from './traffic-ingest.service.js';

const PRUNE_EVERY_MS = 60 * 60_000;
const FIRST_PRUNE_AFTER_MS = 60_000;

/**
 * Keeps per-instance figures of watched slices (instance_outcome_buckets; docs/plans.md,
 * "Reporters"), apart from the app-level traffic tables: it listens to the ingest's report hook,
 * holds cells in a bounded buffer (instance-evidence.ts), and writes them on its own timer
 * (SWITCHYARD_OUTCOMES_FLUSH_MS, as outcomes), so that the ingest's own parsing, buffering and
 * flushing are untouched. A failed write puts the cells back when the database is away, drops
 * them otherwise (logged): these figures only ever cap a plan's evidence, never add to it.
 */
@Injectable()
export class InstanceEvidenceService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(InstanceEvidenceService.name);
  private readonly buffer = new InstanceEvidenceBuffer();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopPruning: (() => void) | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly ingest: TrafficIngestService,
    private readonly knownSlices: KnownSlices,
    private readonly repository: InstanceEvidenceRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.ingest.onReport((report) => {
      const watched = this.knownSlices.watched();
      if (watched.size > 0) this.buffer.add(report, watched);
    });
    this.timer = setInterval(() => {
      if (this.flushing === undefined && this.buffer.size > 0) void this.flush();
    }, this.config.outcomesFlushMs);
    this.timer.unref();
    this.stopPruning = startPeriodicTask(() => this.prune(), {
      firstAfterMs: FIRST_PRUNE_AFTER_MS,
      everyMs: PRUNE_EVERY_MS,
      onError: (error) => this.logger.warn({ msg: 'pruning old instance figures failed; retried later', error: String((error as Error)?.message ?? error) }),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
    this.stopPruning?.();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush().catch(() => undefined);
  }

  /** Counters for logs and tests: cells held, reports not kept for a full buffer. */
  stats(): { held: number; dropped: number } {
    return { held: this.buffer.size, dropped: this.buffer.dropped };
  }

  /** Writes what is held now (joins a write in flight first). */
  flush(): Promise<void> {
    const run: Promise<void> = (this.flushing ?? Promise.resolve()).then(() => this.flushOnce());
    this.flushing = run;
    void run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  async prune(now: number = Date.now()): Promise<number> {
    return this.repository.prune(new Date(now - this.config.trafficRetentionDays * 24 * 60 * 60_000));
  }

  private async flushOnce(): Promise<void> {
    const cells = this.buffer.drain();
    if (cells.length === 0) return;
    try {
      await this.repository.write(cells);
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        this.buffer.restore(cells);
        return;
      }
      this.logger.error({ msg: 'instance figures refused by the database; dropped', cells: cells.length, error: String((error as Error)?.message ?? error) });
    }
  }
}
