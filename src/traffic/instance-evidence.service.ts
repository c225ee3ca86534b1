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

/** A slice whose per-instance figures a RUNNING plan weighs; `latency`: its plan has a latency gate (the histograms' one reader). */
export interface ScopedSlice {
  readonly sliceKey: string;
  readonly latency: boolean;
}

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
  /**
   * Which watched slices need per-instance figures: those a RUNNING plan weighs (the only reader),
   * as last read from `source` (registered by the plans module: traffic does not import plans),
   * re-read on every flush tick and added to at once when a plan starts on this instance. Until a
   * source is registered and has answered once, every watched slice is kept (as before scoping).
   * Why: a slice watched by hand (to see its outcomes within seconds) would otherwise cost a row
   * per instance, slice and minute that nothing reads: under bench:outcomes' load (1,000
   * instances, 50 watched slices) 20,000 upserts a second and most of the ingest's own CPU.
   */
  private scope: { source: () => Promise<Iterable<ScopedSlice>>; keys: Map<string, boolean> | null; reading: Promise<void> | null; pinned: ScopedSlice[] } | null = null;
  /** watched ∩ scope, and those of them with latency histograms, made once per (watched set, scope) pair, not per report. */
  private kept: { watched: ReadonlySet<string>; keys: Map<string, boolean> | null; kept: ReadonlySet<string>; latency: ReadonlySet<string> } | null = null;

  constructor(
    private readonly ingest: TrafficIngestService,
    private readonly knownSlices: KnownSlices,
    private readonly repository: InstanceEvidenceRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.ingest.onReport((report) => {
      const { kept, latency } = this.keptSlices();
      if (kept.size > 0) this.buffer.add(report, kept, latency);
    });
    this.timer = setInterval(() => {
      void this.readScope();
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

  /**
   * From now on, keeps per-instance figures only for the watched slices among those `source`
   * names (read now, then on every flush tick), with latency histograms only for those it says
   * need them (a plan with a latency gate). Registered once, by the plans module.
   */
  scopeTo(source: () => Promise<Iterable<ScopedSlice>>): void {
    this.scope = { source, keys: null, reading: null, pinned: [] };
    void this.readScope();
  }

  /** A plan starts (or resumes) on `sliceKey` here: keep its figures now, not from the next read of the scope. */
  keepFor(sliceKey: string, latency: boolean): void {
    if (this.scope === null) return;
    // Remembered until a read that started after it answers: a read in flight may predate the plan.
    this.scope.pinned.push({ sliceKey, latency });
    if (this.scope.keys !== null) this.scope.keys = new Map(this.scope.keys).set(sliceKey, latency);
  }

  /** Reads the scope again (one read at a time); a failed read keeps the last one. */
  readScope(): Promise<void> {
    const scope = this.scope;
    if (scope === null) return Promise.resolve();
    if (scope.reading !== null) return scope.reading;
    const pinnedBefore = scope.pinned.length;
    scope.reading = scope
      .source()
      .then((keys) => {
        // Pins made before this read began are in its answer (their plans had committed).
        scope.pinned = scope.pinned.slice(pinnedBefore);
        scope.keys = new Map([...keys, ...scope.pinned].map((s) => [s.sliceKey, s.latency]));
      })
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'reading which slices need per-instance figures failed; the last answer stands', error: String((error as Error)?.message ?? error) }),
      )
      .finally(() => {
        scope.reading = null;
      });
    return scope.reading;
  }

  private keptSlices(): { kept: ReadonlySet<string>; latency: ReadonlySet<string> } {
    const watched = this.knownSlices.watched();
    const keys = this.scope?.keys ?? null;
    if (keys === null) return { kept: watched, latency: watched };
    if (this.kept?.watched !== watched || this.kept.keys !== keys) {
      const kept = [...watched].filter((key) => keys.has(key));
      this.kept = { watched, keys, kept: new Set(kept), latency: new Set(kept.filter((key) => keys.get(key) === true)) };
    }
    return this.kept;
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
