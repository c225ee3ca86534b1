import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import {
  bucketStartFor,
  DEFAULT_BUFFER_LIMITS,
  decisionsIn,
  type InstanceObservation,
  type TrafficBatch,
  TrafficBuffer,
} from './traffic-buffer.js';
import { isCount, isName, MAX_NAME_LENGTH, type PathCounts, type SdkReport } from './traffic-report.js';
import { TrafficRepository } from './traffic.repository.js';

/** How often old rows are pruned; the first run comes a minute after start. */
const PRUNE_EVERY_MS = 60 * 60_000;
const FIRST_PRUNE_AFTER_MS = 60_000;
/** A warning about dropped traffic at most this often (with the totals since the last one). */
const DROP_LOG_EVERY_MS = 60_000;
/** The last flush at shutdown gives up after this long (the database may be what is failing). */
const SHUTDOWN_FLUSH_TIMEOUT_MS = 3_000;

/** Counters since start, for logs, tests and the Prometheus exporter. */
export interface TrafficIngestStats {
  /** Reports (ours and Unleash metrics) taken into the buffer. */
  readonly acceptedReports: number;
  /** Reports refused because the buffer was full. */
  readonly droppedReports: number;
  /** Decisions lost: in refused reports, or in batches that could neither be written nor kept. */
  readonly droppedDecisions: number;
  readonly flushes: number;
  readonly failedFlushes: number;
}

/** Who sent an Unleash request, from its headers (unleash-appname, unleash-instanceid). */
export interface UnleashIdentity {
  readonly appName: string;
  readonly instanceId: string;
}

/** Unleash metrics, already validated for their shape (unleash-client-payloads.ts). */
export interface UnleashCounts {
  readonly start: number;
  readonly stop: number;
  /** Toggle name to yes (NEW) / no (LEGACY). */
  readonly toggles: Readonly<Record<string, { readonly yes: number; readonly no: number }>>;
}

/**
 * Takes traffic in (our SDK's reports, Unleash SDKs' metrics, registrations and features fetches),
 * buffers it in memory, and writes it every SWITCHYARD_TRAFFIC_FLUSH_MS.
 *
 * Never blocks or fails the request that brought the traffic: recording is synchronous and in
 * memory; the database is only touched by the flush, in the background. When the buffer is full
 * (the database has been down a while, or a flood), new reports are dropped whole and counted.
 * A failed flush puts its batch back (as far as it fits) to be tried again.
 */
@Injectable()
export class TrafficIngestService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(TrafficIngestService.name);
  private readonly buffer: TrafficBuffer;
  private flushTimer: NodeJS.Timeout | undefined;
  private stopPruning: (() => void) | undefined;
  private flushing: Promise<void> | undefined;
  private earlyFlush = false;
  private counters = { acceptedReports: 0, droppedReports: 0, droppedDecisions: 0, flushes: 0, failedFlushes: 0 };
  private droppedSinceLog = { reports: 0, decisions: 0 };
  private lastDropLog = 0;
  private failing = false;

  constructor(
    private readonly repository: TrafficRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.buffer = new TrafficBuffer(DEFAULT_BUFFER_LIMITS);
  }

  onModuleInit(): void {
    this.flushTimer = setInterval(() => this.flushUnlessBusy(), this.config.trafficFlushMs);
    this.flushTimer.unref();
    this.stopPruning = startPeriodicTask(() => this.prune(), {
      firstAfterMs: FIRST_PRUNE_AFTER_MS,
      everyMs: PRUNE_EVERY_MS,
      onError: (error) => this.logger.warn({ msg: 'pruning old traffic failed; retried later', error: String((error as Error)?.message ?? error) }),
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.flushTimer);
    this.stopPruning?.();
  }

  /**
   * The last flush, before the database connections close (they close in onApplicationShutdown).
   * Bounded: a database that does not answer must not hold the shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_FLUSH_TIMEOUT_MS);
    });
    await Promise.race([this.flush(), timeout]);
    clearTimeout(timer);
    if (!this.buffer.isEmpty) this.drop(0, decisionsIn(this.buffer.drain()), 'shutting down with traffic not written');
  }

  stats(): TrafficIngestStats {
    return { ...this.counters };
  }

  /** A validated report of our SDK, received now. */
  recordSdkReport(report: SdkReport, receivedAt: number = Date.now()): void {
    // The SDK's clock may be off; its `stop` is "now" by that clock, so its sync time is
    // re-expressed as "that long before we received it", on our clock.
    const syncedAt = report.syncedAt === null ? null : receivedAt - Math.max(0, report.stop - Math.min(report.syncedAt, report.stop));
    this.add(
      {
        protocol: 'SWITCHYARD',
        appName: report.appName,
        instanceId: report.instanceId,
        sdkName: report.sdkName,
        sdkVersion: report.sdkVersion,
        revision: report.revision,
        syncedAt,
        seenAt: receivedAt,
      },
      { bucketStart: bucketStartFor(receivedAt, report.start, report.stop), slices: report.slices },
      countsIn(report.slices.values()),
    );
  }

  /**
   * An Unleash SDK's metrics: yes = NEW, no = LEGACY. Toggles whose names cannot be slice keys are
   * skipped (they cannot be ours); the rest go through the same path as our SDK's reports.
   */
  recordUnleashMetrics(who: UnleashIdentity, sdk: { sdkName: string | null; sdkVersion: string | null }, counts: UnleashCounts, receivedAt: number = Date.now()): void {
    if (!isName(who.appName, MAX_NAME_LENGTH) || !isName(who.instanceId, MAX_NAME_LENGTH)) return;
    const slices = new Map<string, PathCounts>();
    for (const name of Object.keys(counts.toggles)) {
      const t = counts.toggles[name]!;
      if (SLICE_KEY_PATTERN.test(name) && isCount(t.yes) && isCount(t.no)) slices.set(name, { NEW: t.yes, LEGACY: t.no });
    }
    this.add(
      { protocol: 'UNLEASH', appName: who.appName, instanceId: who.instanceId, ...sdk, revision: null, syncedAt: null, seenAt: receivedAt },
      { bucketStart: bucketStartFor(receivedAt, counts.start, counts.stop), slices },
      countsIn(slices.values()),
    );
  }

  /** An Unleash SDK was heard from (registration), or was served `revision` (features, stream). */
  recordUnleashInstance(who: UnleashIdentity, sdk: { sdkName: string | null; sdkVersion: string | null }, served: { revision: number; at: number } | null, at: number = Date.now()): void {
    if (!isName(who.appName, MAX_NAME_LENGTH) || !isName(who.instanceId, MAX_NAME_LENGTH)) return;
    this.add(
      {
        protocol: 'UNLEASH',
        appName: who.appName,
        instanceId: who.instanceId,
        ...sdk,
        revision: served?.revision ?? null,
        syncedAt: served?.at ?? null,
        seenAt: at,
      },
      undefined,
      0n,
    );
  }

  /** Writes what is buffered now. One flush at a time: a call during one waits for it, then flushes again. */
  flush(): Promise<void> {
    // flushOnce catches every failure itself: this chain never rejects.
    const run: Promise<void> = (this.flushing ?? Promise.resolve()).then(() => this.flushOnce());
    this.flushing = run;
    void run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  /**
   * The timer's flush: skipped while one is in flight, so that a database that hangs (rather than
   * refuses) does not pile up waiting flushes; the buffer's bound applies meanwhile.
   */
  private flushUnlessBusy(): void {
    if (this.flushing === undefined) void this.flush();
  }

  /** Deletes rows older than the retention. Returns how many went, per table. */
  async prune(now: number = Date.now()): Promise<{ buckets: number; followers: number; instances: number }> {
    const before = new Date(now - this.config.trafficRetentionDays * 24 * 60 * 60_000);
    const deleted = await this.repository.prune(before);
    if (deleted.buckets + deleted.followers + deleted.instances > 0) this.logger.log({ msg: 'old traffic pruned', before: before.toISOString(), ...deleted });
    return deleted;
  }

  private add(instance: InstanceObservation, counts: Parameters<TrafficBuffer['add']>[1], decisions: bigint): void {
    if (this.buffer.add(instance, counts)) {
      if (counts !== undefined) this.counters.acceptedReports++;
      // Past half full, do not wait for the timer (a burst of reports, or a big fleet).
      if (!this.earlyFlush && this.buffer.fill >= 0.5 && !this.failing) {
        this.earlyFlush = true;
        setImmediate(() => {
          this.earlyFlush = false;
          this.flushUnlessBusy();
        });
      }
      return;
    }
    this.drop(counts === undefined ? 0 : 1, decisions, 'traffic buffer full');
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.isEmpty) return;
    const batch = this.buffer.drain();
    try {
      await this.repository.write(batch);
      this.counters.flushes++;
      if (this.failing) {
        this.failing = false;
        this.logger.log({ msg: 'traffic written again after failures' });
      }
    } catch (error) {
      this.counters.failedFlushes++;
      this.onFlushFailed(batch, error);
    }
  }

  private onFlushFailed(batch: TrafficBatch, error: unknown): void {
    if (!isDatabaseUnavailable(error)) {
      // Not the database being away but something about this batch (a bug): retrying it would
      // fail forever and block everything behind it.
      this.logger.error({ msg: 'traffic batch could not be written; dropped', error: String((error as Error)?.message ?? error) }, (error as Error)?.stack);
      this.drop(0, decisionsIn(batch), 'traffic batch refused by the database');
      return;
    }
    if (!this.failing) {
      this.failing = true;
      this.logger.warn({ msg: 'database unavailable: traffic kept in memory until it is back', error: String((error as Error)?.message ?? error) });
    }
    const lost = this.buffer.restore(batch);
    if (lost > 0n) this.drop(0, lost, 'traffic buffer full while the database is unavailable');
  }

  private drop(reports: number, decisions: bigint, reason: string): void {
    const n = Number(decisions);
    this.counters.droppedReports += reports;
    this.counters.droppedDecisions += n;
    this.droppedSinceLog.reports += reports;
    this.droppedSinceLog.decisions += n;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.lastDropLog = now;
    this.logger.warn({ msg: 'traffic dropped', reason, droppedReports: this.droppedSinceLog.reports, droppedDecisions: this.droppedSinceLog.decisions, ...this.buffer.size });
    this.droppedSinceLog = { reports: 0, decisions: 0 };
  }
}

function countsIn(counts: Iterable<PathCounts>): bigint {
  let total = 0n;
  for (const c of counts) total += BigInt(c.NEW) + BigInt(c.LEGACY);
  return total;
}
