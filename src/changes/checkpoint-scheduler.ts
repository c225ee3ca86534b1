import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ChangeService } from './change.service.js';
import { CheckpointPublisher } from '../history/checkpoint-publisher.js';
import { CheckpointsService } from '../history/checkpoints.service.js';

/** At shutdown, a last checkpoint gets this long: a wedged database must not hold the exit up. */
const SHUTDOWN_CHECKPOINT_MS = 2_000;

/**
 * When checkpoints are made: once the head is SWITCHYARD_CHECKPOINT_EVERY_CHANGES rows past the
 * last one this instance knows of, every SWITCHYARD_CHECKPOINT_EVERY_MINUTES when the head moved,
 * and at shutdown when this instance appended since its last one.
 *
 * Never on a change's path: a commit only compares two numbers and, at most, starts a run on the
 * next turn of the event loop; runs never overlap (a request during one runs once more after
 * it), and a failed run (database down) is logged and retried at the next trigger. Across
 * instances each position is signed once (CheckpointsRepository.claim); the count is each
 * instance's own view, so with K instances checkpoints come up to K times as often, never less.
 */
@Injectable()
export class CheckpointScheduler implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(CheckpointScheduler.name);
  /** The highest position this instance committed, and the last one it saw checkpointed. */
  private knownHead = 0n;
  private checkpointed = 0n;
  private running: Promise<void> | null = null;
  private runAgain = false;
  private stopTimer: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly changes: ChangeService,
    private readonly checkpoints: CheckpointsService,
    private readonly publisher: CheckpointPublisher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    if (this.checkpoints.key === null) return;
    this.unsubscribe = this.changes.onCommit(({ head }) => {
      const position = BigInt(head.position);
      if (position > this.knownHead) this.knownHead = position;
      if (this.knownHead - this.checkpointed >= BigInt(this.config.checkpointEveryChanges)) void this.trigger(true);
    });
    const everyMs = this.config.checkpointEveryMinutes * 60_000;
    this.stopTimer = startPeriodicTask(() => this.trigger(false), {
      firstAfterMs: everyMs,
      everyMs,
      clock: this.clock,
      onError: () => undefined, // checkpointNow logs its own failures
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopTimer?.();
    this.unsubscribe?.();
    // A run in progress, then a last one if this instance appended since: together bounded, so
    // that a database that stopped answering does not hold the exit up.
    const last = (async () => {
      await this.whenIdle();
      if (this.knownHead > this.checkpointed) await this.trigger(false);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_CHECKPOINT_MS);
    });
    await Promise.race([last, timeout]);
    clearTimeout(timer);
    await this.publisher.settled();
  }

  /** Resolves once no run is in progress or asked for (tests wait on it after moving the clock). */
  async whenIdle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /**
   * Starts a run (on the next turn of the event loop when `defer`: a commit listener must return
   * at once), or asks the run in progress for one more after it. Resolves when that run ends.
   */
  private trigger(defer: boolean): Promise<void> {
    if (this.running !== null) {
      this.runAgain = true;
      return this.running;
    }
    const start = defer ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    const run = start
      .then(() => this.checkpointNow())
      .finally(() => {
        if (this.running === run) this.running = null;
        if (this.runAgain) {
          this.runAgain = false;
          void this.trigger(false);
        }
      });
    this.running = run;
    return run;
  }

  /** Signs and publishes the head unless it is checkpointed already. Never throws. */
  private async checkpointNow(): Promise<void> {
    try {
      const result = await this.checkpoints.checkpointHead();
      if (result === null) return;
      const position = BigInt(result.checkpoint.position);
      if (position > this.checkpointed) this.checkpointed = position;
      if (position > this.knownHead) this.knownHead = position;
    } catch (error) {
      this.logger.warn({ msg: 'history checkpoint failed; tried again at the next change or tick', error: String((error as Error)?.message ?? error) });
    }
  }
}
