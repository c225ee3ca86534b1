import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable.js';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { InstanceAdmission, MAX_TRACKED_INSTANCES } from './instance-admission.js';
import type { TakenReport } from './instance-evidence.js';
import { KnownSlices } from './known-slices.js';
import { decisionCeiling, implausibleCounts } from './plausible-counts.js';
import {
  bucketStartFor,
  type CountsEntry,
  DEFAULT_BUFFER_LIMITS,
  decisionsIn,
  type InstanceObservation,
  type OutcomesEntry,
  rowsIn,
  splitBatch,
  type TrafficBatch,
  TrafficBuffer,
} from './traffic-buffer.js';
import { type ComparisonReport, isCount, isName, MAX_NAME_LENGTH, type PathCounts, parseSdkReport, type SdkReport, type SliceOutcomeReport } from './traffic-report.js';
import { TrafficException } from './traffic.exception.js';
import { TrafficRepository } from './traffic.repository.js';

/** How often old rows are pruned; the first run comes a minute after start. */
const PRUNE_EVERY_MS = 60 * 60_000;
const FIRST_PRUNE_AFTER_MS = 60_000;
/** A warning about dropped traffic at most this often (with the totals since the last one). */
const DROP_LOG_EVERY_MS = 60_000;
/** The last flush at shutdown gives up after this long (the database may be what is failing). */
const SHUTDOWN_FLUSH_TIMEOUT_MS = 3_000;
/** Writes one refused batch may cost while its bad rows are looked for (see isolate). */
const MAX_ISOLATING_WRITES = 64;
/** A sync time further back than this (by the SDK's own account) is recorded as this far back. */
const MAX_SYNC_AGE_MS = 10 * 365 * 24 * 60 * 60_000;

/** Where traffic comes in (the `source` label of the refusal counter). */
export type TrafficSource = 'sdk_metrics' | 'unleash_metrics' | 'unleash_register' | 'unleash_served';
export const TRAFFIC_SOURCES: readonly TrafficSource[] = ['sdk_metrics', 'unleash_metrics', 'unleash_register', 'unleash_served'];

/**
 * Why input was not taken: `invalid` (its shape), `implausible` (counts above the ceiling),
 * `instance_limit` (a new instance beyond its app's or token's cap for the window), `cell_limit`
 * (beyond its app's or token's share of the buffer), `buffer_full`. A closed set: never a value
 * from the input.
 */
export type RefusalReason = 'invalid' | 'implausible' | 'instance_limit' | 'cell_limit' | 'buffer_full';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['invalid', 'implausible', 'instance_limit', 'cell_limit', 'buffer_full'];

/** Counters since start, for logs, tests and the Prometheus exporter. */
export interface TrafficIngestStats {
  /** Reports (ours and Unleash metrics) taken into the buffer. */
  readonly acceptedReports: number;
  /** Reports (ours and Unleash metrics) not taken, for any of the refusal reasons. */
  readonly droppedReports: number;
  /**
   * Decisions of valid, plausible reports that never reached the database: refused for a limit or
   * a full buffer, in batches that could neither be written nor kept, or in rows the database
   * refused. Not the counts of invalid or implausible reports (lies would swamp it), nor those of
   * unknown slices.
   */
  readonly droppedDecisions: number;
  readonly flushes: number;
  readonly failedFlushes: number;
  /** Input not taken, by where it came from and why (registrations and served marks included). */
  readonly refused: Readonly<Record<TrafficSource, Readonly<Record<RefusalReason, number>>>>;
  /** Slice entries of reports dropped because no slice has their key (see KnownSlices). */
  readonly unknownSlices: number;
  /** Rows the database refused although the batch around them was written (should stay 0). */
  readonly rejectedRows: number;
  /** Mismatch samples not kept: more than the buffer holds between two writes (the counts were kept). */
  readonly droppedSamples: number;
}

/** Told of the outcomes of every report taken (known slices only), as it is taken: Prometheus's export. */
export type OutcomeListener = (appName: string, outcomes: ReadonlyMap<string, SliceOutcomeReport>) => void;
/** Told, after a flush wrote them, the slices whose outcomes it wrote (a plan's runner looks at once). */
export type OutcomesWrittenListener = (sliceKeys: ReadonlySet<string>) => void;

/**
 * Told of every report of our SDK taken (known slices only, after admission and the buffer), with
 * its instance: the hook per-instance figures are merged from (instance-evidence.service.ts).
 */
export type ReportListener = (report: TakenReport) => void;

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
 * buffers it in memory, and writes it every SWITCHYARD_TRAFFIC_FLUSH_MS, or every
 * SWITCHYARD_OUTCOMES_FLUSH_MS while outcomes and shadow comparisons (docs/outcomes.md) wait.
 *
 * Never blocks or fails the request that brought the traffic: recording is synchronous and in
 * memory; the database is only touched by the flush, in the background. Everything that comes in
 * is untrusted (docs/traffic.md, "Untrusted reports"), and passes, in this order:
 *  1. shape (traffic-report.ts, unleash-client-payloads.ts): refused whole, `invalid`;
 *  2. plausibility (plausible-counts.ts): refused whole, `implausible`;
 *  3. known slices (KnownSlices): entries of other keys dropped, the rest goes on;
 *  4. instance admission (instance-admission.ts): a new instance beyond its app's or token's cap
 *     for the window is ignored whole, `instance_limit`;
 *  5. the buffer (traffic-buffer.ts): beyond the app's or token's share of cells, `cell_limit`;
 *     beyond the buffer's bounds, `buffer_full`.
 * A failed flush puts its batch back (as far as it fits) when the database is away; when the
 * database refuses the batch itself, the batch is bisected so that only the rows it refuses are
 * lost (see isolate).
 */
@Injectable()
export class TrafficIngestService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(TrafficIngestService.name);
  private readonly buffer: TrafficBuffer;
  private readonly admission: InstanceAdmission;
  private flushTimer: NodeJS.Timeout | undefined;
  private stopPruning: (() => void) | undefined;
  private flushing: Promise<void> | undefined;
  private earlyFlush = false;
  private counters = { acceptedReports: 0, droppedReports: 0, droppedDecisions: 0, flushes: 0, failedFlushes: 0, unknownSlices: 0, rejectedRows: 0 };
  private readonly refusals = Object.fromEntries(TRAFFIC_SOURCES.map((source) => [source, Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, 0]))])) as Record<
    TrafficSource,
    Record<RefusalReason, number>
  >;
  private droppedSinceLog = { reports: 0, decisions: 0 };
  private lastDropLog = 0;
  private failing = false;
  /** Timer ticks since start: every `ticksPerFlush`-th writes decision counts alone (see flushIfDue). */
  private ticks = 0;
  private readonly outcomeListeners = new Set<OutcomeListener>();
  private readonly writtenListeners = new Set<OutcomesWrittenListener>();
  private readonly reportListeners = new Set<ReportListener>();

  constructor(
    private readonly repository: TrafficRepository,
    private readonly knownSlices: KnownSlices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.buffer = new TrafficBuffer({
      ...DEFAULT_BUFFER_LIMITS,
      maxCellsPerApp: config.trafficMaxCellsPerApp,
      maxCellsPerToken: config.trafficMaxCellsPerToken,
    });
    this.admission = new InstanceAdmission({
      maxInstancesPerApp: config.trafficMaxInstancesPerApp,
      maxInstancesPerToken: config.trafficMaxInstancesPerToken,
      windowMs: config.trafficInstanceWindowMinutes * 60_000,
      maxTracked: MAX_TRACKED_INSTANCES,
    });
  }

  onModuleInit(): void {
    // Ticks at the shorter of the two intervals; writes when outcomes wait, or when the longer one
    // has passed (see flushIfDue).
    const tickMs = Math.min(this.config.trafficFlushMs, this.config.outcomesFlushMs);
    const ticksPerFlush = Math.max(1, Math.round(this.config.trafficFlushMs / tickMs));
    this.flushTimer = setInterval(() => this.flushIfDue(ticksPerFlush), tickMs);
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
    if (!this.buffer.isEmpty) this.drop(decisionsIn(this.buffer.drain()), 'shutting down with traffic not written');
  }

  stats(): TrafficIngestStats {
    const refused = Object.fromEntries(TRAFFIC_SOURCES.map((source) => [source, { ...this.refusals[source] }])) as TrafficIngestStats['refused'];
    return { ...this.counters, droppedSamples: this.buffer.droppedSamples, refused };
  }

  /** Calls `listener` with the outcomes of every report taken from now on; returns the unsubscribe. */
  onOutcomes(listener: OutcomeListener): () => void {
    this.outcomeListeners.add(listener);
    return () => this.outcomeListeners.delete(listener);
  }

  /** Calls `listener` after every flush that wrote outcomes, with their slices; returns the unsubscribe. */
  onOutcomesWritten(listener: OutcomesWrittenListener): () => void {
    this.writtenListeners.add(listener);
    return () => this.writtenListeners.delete(listener);
  }

  /** Calls `listener` with every report of our SDK taken from now on, with its instance; returns the unsubscribe. */
  onReport(listener: ReportListener): () => void {
    this.reportListeners.add(listener);
    return () => this.reportListeners.delete(listener);
  }

  /**
   * The body of `POST /sdk/v1/metrics`, sent with the token named `token`, received now. Throws
   * INVALID_INPUT or TRAFFIC_COUNTS_IMPLAUSIBLE (400, nothing kept); anything else is answered 202,
   * whether it was taken or dropped for a limit (counted: the SDK would only send it again).
   */
  receiveSdkReport(body: unknown, token: string, receivedAt: number = this.clock.now().getTime()): void {
    const parsed = parseSdkReport(body);
    if (!parsed.ok) {
      this.refuse('sdk_metrics', 'invalid', 'report', 0n);
      throw new InvalidInputException(parsed.violations);
    }
    const report = parsed.value;
    const ceiling = decisionCeiling(report.stop - report.start, this.config.trafficMaxDecisionsPerSecond);
    const implausible = implausibleCounts(report.slices, ceiling, (key) => `bucket.slices[${JSON.stringify(key)}]`, 'bucket.slices');
    // The calls and comparisons a report claims count toward the same ceiling as its decisions.
    const claimed = implausible.length > 0 ? implausible : implausibleCounts(claimsOf(report), ceiling, (key) => `outcomes[${JSON.stringify(key)}]`, 'outcomes');
    if (claimed.length > 0) {
      this.refuse('sdk_metrics', 'implausible', 'report', 0n);
      throw TrafficException.implausible(claimed, ceiling);
    }
    this.recordSdkReport(report, token, receivedAt);
  }

  /** A validated, plausible report of our SDK, received now. */
  private recordSdkReport(report: SdkReport, token: string, receivedAt: number): void {
    // The SDK's clock may be off; its `stop` is "now" by that clock, so its sync time is
    // re-expressed as "that long before we received it", on our clock. Bounded, so that no claim
    // makes a timestamp PostgreSQL cannot store (year 0001 against 9999 would).
    const syncedAt = report.syncedAt === null ? null : receivedAt - Math.min(MAX_SYNC_AGE_MS, Math.max(0, report.stop - Math.min(report.syncedAt, report.stop)));
    const slices = this.knownOnly(report.slices);
    const bucketStart = bucketStartFor(receivedAt, report.start, report.stop);
    const outcomes = this.knownOnly(report.outcomes);
    const comparisons = this.knownOnly(report.comparisons);
    const coverage = this.knownOnly(report.segmentCoverage);
    const taken = this.take(
      'sdk_metrics',
      {
        protocol: 'SWITCHYARD',
        appName: report.appName,
        instanceId: report.instanceId,
        sdkName: report.sdkName,
        sdkVersion: report.sdkVersion,
        revision: report.revision,
        syncedAt,
        clientSpec: null,
        seenAt: receivedAt,
        closedAt: report.final ? receivedAt : null,
        reportIntervalMs: report.metricsIntervalMs,
      },
      { bucketStart, slices },
      token,
      outcomes.size + comparisons.size + coverage.size > 0 ? { bucketStart, receivedAt, outcomes, comparisons, coverage } : undefined,
    );
    if (taken && outcomes.size > 0) for (const listener of this.outcomeListeners) listener(report.appName, outcomes);
    if (taken) for (const listener of this.reportListeners) listener({ appName: report.appName, instanceId: report.instanceId, bucketStart, slices, outcomes, comparisons });
  }

  /**
   * An Unleash SDK's metrics, received with the token named `token`: yes = NEW, no = LEGACY. A
   * report above the plausible ceiling is dropped whole and counted (the Unleash SDKs do not
   * retry refused metrics meaningfully, so a 400 would tell no one); toggles that are not slices
   * are dropped; the rest goes through the same path as our SDK's reports.
   */
  recordUnleashMetrics(
    who: UnleashIdentity,
    sdk: { sdkName: string | null; sdkVersion: string | null },
    counts: UnleashCounts,
    token: string,
    receivedAt: number = this.clock.now().getTime(),
  ): void {
    if (!isName(who.appName, MAX_NAME_LENGTH) || !isName(who.instanceId, MAX_NAME_LENGTH)) {
      this.refuse('unleash_metrics', 'invalid', 'report', 0n);
      return;
    }
    const reported = new Map<string, PathCounts>();
    for (const name of Object.keys(counts.toggles)) {
      const t = counts.toggles[name]!;
      // The parser checked the counts; a toggle that is not a slice key is dropped below as unknown.
      if (isCount(t.yes) && isCount(t.no)) reported.set(name, { NEW: t.yes, LEGACY: t.no });
    }
    const ceiling = decisionCeiling(counts.stop - counts.start, this.config.trafficMaxDecisionsPerSecond);
    if (implausibleCounts(reported, ceiling, (key) => key, 'toggles').length > 0) {
      this.refuse('unleash_metrics', 'implausible', 'report', 0n);
      return;
    }
    const slices = this.knownOnly(reported);
    this.take(
      'unleash_metrics',
      {
        protocol: 'UNLEASH',
        appName: who.appName,
        instanceId: who.instanceId,
        ...sdk,
        revision: null,
        syncedAt: null,
        clientSpec: null,
        seenAt: receivedAt,
        closedAt: null,
        reportIntervalMs: null,
      },
      { bucketStart: bucketStartFor(receivedAt, counts.start, counts.stop), slices },
      token,
    );
  }

  /**
   * An Unleash SDK was heard from (`unleash_register`, with the metrics interval it registers, in
   * ms, when it says one), or was served `revision` (`unleash_served`: a features response or
   * stream event) as an SDK declaring `clientSpec` (its valid `Unleash-Client-Spec`, null for
   * none), with the token named `token`.
   */
  recordUnleashInstance(
    source: 'unleash_register' | 'unleash_served',
    who: UnleashIdentity,
    sdk: { sdkName: string | null; sdkVersion: string | null; reportIntervalMs?: number | null },
    served: { revision: number; at: number; clientSpec: string | null } | null,
    token: string,
    at: number = this.clock.now().getTime(),
  ): void {
    if (!isName(who.appName, MAX_NAME_LENGTH) || !isName(who.instanceId, MAX_NAME_LENGTH)) {
      this.refuse(source, 'invalid', 'observation', 0n);
      return;
    }
    this.take(
      source,
      {
        protocol: 'UNLEASH',
        appName: who.appName,
        instanceId: who.instanceId,
        sdkName: sdk.sdkName,
        sdkVersion: sdk.sdkVersion,
        revision: served?.revision ?? null,
        syncedAt: served?.at ?? null,
        clientSpec: served?.clientSpec ?? null,
        seenAt: at,
        // Unleash SDKs do not say goodbye: they go GONE when not heard from (follower-status.ts).
        closedAt: null,
        reportIntervalMs: sdk.reportIntervalMs ?? null,
      },
      undefined,
      token,
    );
  }

  /** Counts input refused before it reached this service (e.g. an Unleash body of the wrong shape). */
  countRefused(source: TrafficSource, reason: RefusalReason, carriesCounts: boolean): void {
    this.refuse(source, reason, carriesCounts ? 'report' : 'observation', 0n);
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

  /**
   * The timer's tick: outcomes and comparisons are written within SWITCHYARD_OUTCOMES_FLUSH_MS (a
   * plan waits on them), decision counts alone within SWITCHYARD_TRAFFIC_FLUSH_MS.
   */
  private flushIfDue(ticksPerFlush: number): void {
    this.ticks++;
    if (this.buffer.holdsOutcomes || this.ticks % ticksPerFlush === 0) this.flushUnlessBusy();
  }

  /** Deletes rows older than the retention. Returns how many went, per table. */
  async prune(now: number = Date.now()): Promise<{ buckets: number; followers: number; instances: number; outcomes: number }> {
    const before = new Date(now - this.config.trafficRetentionDays * 24 * 60 * 60_000);
    const deleted = await this.repository.prune(before);
    if (deleted.buckets + deleted.followers + deleted.instances + deleted.outcomes > 0) this.logger.log({ msg: 'old traffic pruned', before: before.toISOString(), ...deleted });
    return deleted;
  }

  /**
   * The entries whose key is a slice this instance knows; the others are counted and dropped. The
   * map itself when it names only known slices (an honest report, nearly always): nothing copied.
   */
  private knownOnly<T>(slices: ReadonlyMap<string, T>): ReadonlyMap<string, T> {
    const known = this.knownSlices.current();
    let unknown = 0;
    for (const key of slices.keys()) if (!known.has(key)) unknown++;
    if (unknown === 0) return slices;
    this.counters.unknownSlices += unknown;
    const kept = new Map<string, T>();
    for (const [key, value] of slices) if (known.has(key)) kept.set(key, value);
    return kept;
  }

  /** Steps 4 and 5 (see the class): admission of the instance, then the buffer. True when taken. */
  private take(source: TrafficSource, instance: InstanceObservation, counts: CountsEntry | undefined, token: string, outcomes?: OutcomesEntry): boolean {
    const kind = counts === undefined ? 'observation' : 'report';
    if (!this.admission.admits(instance, token, instance.seenAt)) {
      this.refuse(source, 'instance_limit', kind, decisionsOf(counts), { token, appName: instance.appName });
      return false;
    }
    const outcome = this.buffer.add(instance, counts, token, outcomes);
    if (outcome !== 'accepted') {
      this.refuse(source, outcome, kind, decisionsOf(counts), { token, appName: instance.appName });
      return false;
    }
    this.admission.admit(instance, token, instance.seenAt);
    if (kind === 'report') this.counters.acceptedReports++;
    // Past half full, do not wait for the timer (a burst of reports, or a big fleet).
    if (!this.earlyFlush && this.buffer.fill >= 0.5 && !this.failing) {
      this.earlyFlush = true;
      setImmediate(() => {
        this.earlyFlush = false;
        this.flushUnlessBusy();
      });
    }
    return true;
  }

  private refuse(source: TrafficSource, reason: RefusalReason, kind: 'report' | 'observation', decisions: bigint, who?: { token: string; appName: string }): void {
    this.refusals[source][reason]++;
    // Capacity refusals lose honest-looking decisions and deserve a warning; invalid and
    // implausible input is the sender's problem, answered with a 400 where the protocol allows.
    const capacity = reason === 'instance_limit' || reason === 'cell_limit' || reason === 'buffer_full';
    if (kind === 'report') this.counters.droppedReports++;
    if (capacity) this.drop(decisions, `traffic refused: ${reason}`, { reports: kind === 'report' ? 1 : 0, ...who });
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.isEmpty) return;
    const batch = this.buffer.drain();
    try {
      await this.repository.write(batch);
      this.counters.flushes++;
      this.tellWritten(batch);
      if (this.failing) {
        this.failing = false;
        this.logger.log({ msg: 'traffic written again after failures' });
      }
    } catch (error) {
      this.counters.failedFlushes++;
      if (isDatabaseUnavailable(error)) {
        this.keepForLater(batch, error);
        return;
      }
      // Not the database being away but something about this batch: retrying it whole would fail
      // forever, and dropping it whole would lose every other report with it.
      this.logger.error(
        { msg: 'traffic batch refused by the database; writing it in parts', rows: rowsIn(batch), error: String((error as Error)?.message ?? error) },
        (error as Error)?.stack,
      );
      await this.isolate(splitBatch(batch), { writesLeft: MAX_ISOLATING_WRITES });
    }
  }

  /** A listener's failure is its own: the flush has happened and the next one must not wait on it. */
  private tellWritten(batch: TrafficBatch): void {
    if (this.writtenListeners.size === 0 || !batch.outcomeCells?.length) return;
    const keys = new Set<string>();
    for (const cell of batch.outcomeCells) if (cell.kind === 'outcome') keys.add(cell.sliceKey);
    if (keys.size === 0) return;
    for (const listener of this.writtenListeners) {
      try {
        listener(keys);
      } catch (error) {
        this.logger.warn({ msg: 'outcomes-written listener failed', error: String((error as Error)?.message ?? error) });
      }
    }
  }

  /**
   * Bisects a refused batch: each part is written on its own; a part refused again is split again,
   * down to single rows, which are dropped and counted (`rejectedRows`). One bad row among 100,000
   * costs about 2 x 17 writes. A budget bounds the writes, so that a batch the database refuses
   * throughout (a bug, not a row) costs a bounded number of statements: what is left then is
   * dropped. Parts refused because the database went away meanwhile are put back.
   */
  private async isolate(parts: readonly TrafficBatch[], budget: { writesLeft: number }): Promise<void> {
    for (const part of parts) {
      if (rowsIn(part) === 0) continue;
      if (budget.writesLeft <= 0) {
        this.drop(decisionsIn(part), 'traffic batch refused by the database (gave up isolating its bad rows)');
        continue;
      }
      budget.writesLeft--;
      try {
        await this.repository.write(part);
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          this.keepForLater(part, error);
        } else if (rowsIn(part) === 1) {
          this.counters.rejectedRows++;
          this.logger.error({ msg: 'traffic row refused by the database; dropped', error: String((error as Error)?.message ?? error) });
          this.drop(decisionsIn(part), 'traffic row refused by the database');
        } else {
          await this.isolate(splitBatch(part), budget);
        }
      }
    }
  }

  /** The database is away: the batch goes back into the buffer, as far as it fits. */
  private keepForLater(batch: TrafficBatch, error: unknown): void {
    if (!this.failing) {
      this.failing = true;
      this.logger.warn({ msg: 'database unavailable: traffic kept in memory until it is back', error: String((error as Error)?.message ?? error) });
    }
    const lost = this.buffer.restore(batch);
    if (lost > 0n) this.drop(lost, 'traffic buffer full while the database is unavailable');
  }

  /**
   * Counts decisions lost, and warns at most once a minute with the totals since the last warning
   * (`reports`: how many reports they came in, for the warning; `refuse` counts those).
   */
  private drop(decisions: bigint, reason: string, context: { reports?: number; token?: string; appName?: string } = {}): void {
    const { reports = 0, ...who } = context;
    const n = Number(decisions);
    this.counters.droppedDecisions += n;
    this.droppedSinceLog.reports += reports;
    this.droppedSinceLog.decisions += n;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.lastDropLog = now;
    // The token's name is the operator's; the app name was validated (no control characters).
    this.logger.warn({
      msg: 'traffic dropped',
      reason,
      ...who,
      droppedReports: this.droppedSinceLog.reports,
      droppedDecisions: this.droppedSinceLog.decisions,
      ...this.buffer.size,
    });
    this.droppedSinceLog = { reports: 0, decisions: 0 };
  }
}

/**
 * What a report claims per slice, for the plausibility ceiling: its decisions, the calls of both
 * paths, and the comparisons (finished, failed or timed out), each slice's sum as one count.
 */
function claimsOf(report: SdkReport): Map<string, PathCounts> {
  const claims = new Map<string, { NEW: number; LEGACY: number }>();
  const add = (key: string, n: number) => {
    const c = claims.get(key) ?? { NEW: 0, LEGACY: 0 };
    c.NEW += n;
    claims.set(key, c);
  };
  if (report.outcomes.size === 0 && report.comparisons.size === 0 && report.segmentCoverage.size === 0) return claims;
  for (const [key, c] of report.slices) add(key, c.NEW + c.LEGACY);
  for (const [key, o] of report.outcomes) add(key, (o.NEW?.calls ?? 0) + (o.LEGACY?.calls ?? 0));
  for (const [key, c] of report.comparisons) add(key, comparedIn(c));
  // Sampled decisions are decisions too: a liar cannot claim more of them than of decisions.
  for (const [key, c] of report.segmentCoverage) add(key, c.sampled);
  return claims;
}

function comparedIn(c: ComparisonReport): number {
  return c.compared + c.otherFailures + c.timeouts;
}

/** The decisions a report carries (counted only when it is refused: what is lost). */
function decisionsOf(counts: CountsEntry | undefined): bigint {
  let total = 0n;
  for (const c of counts?.slices.values() ?? []) total += BigInt(c.NEW) + BigInt(c.LEGACY);
  return total;
}
