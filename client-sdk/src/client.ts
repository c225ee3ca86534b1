/**
 * SwitchyardClient, the facade: decisions, `route`, counts, listeners, status. What a host calls.
 *
 * It holds no snapshot logic and no network logic of its own, only the wiring of three parts:
 *  - the snapshot holder (snapshot/): the one compiled snapshot decisions read, and everything that
 *    replaces it (install, delta, monotonic revisions, the backup);
 *  - the synchroniser (sync/): keeps that snapshot current over the stream and polls, with backoff,
 *    and says whether the service is heard;
 *  - the usage reporter (transport/metrics-reporter.ts): tells the service what was decided.
 * Time and storage come in through small ports (ports/), so that tests move time by hand.
 *
 * Every decision is answered from the held snapshot, synchronously, with no I/O and no allocation
 * (counting allocates once per new slice key). Whatever happens in the background, the last good
 * snapshot keeps answering, and trouble is reported through `onError` and `status()`, never thrown.
 */
import { ERROR_DECISION, MAX_BASIS_POINTS, definitionOf, type Decision, type EvaluationContext, type Path } from './core/index.js';
import { describeError, SwitchyardError, type SwitchyardErrorCode, type SwitchyardOperation } from './errors.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { OutcomeRecorder } from './outcomes/outcome-recorder.js';
import { COVERAGE_SAMPLE_EVERY, SegmentCoverageRecorder } from './outcomes/segment-coverage.js';
import { PathRunner, type CompareHandlers, type RouteHandlers, type RouteOptions } from './outcomes/path-runner.js';
import { systemClock, systemMonotonic, type Clock, type Monotonic, type Random } from './ports/clock.js';
import type { SnapshotReader, SnapshotStore } from './ports/storage.js';
import { changedSlices } from './snapshot/snapshot-diff.js';
import { SnapshotHolder, type ServiceSnapshotChange, type SnapshotSource } from './snapshot/snapshot-holder.js';
import { SnapshotSync } from './sync/snapshot-sync.js';
import { MetricsReporter, syncOf } from './transport/metrics-reporter.js';

export type { ClientOptions } from './options.js';
export type { SnapshotSource } from './snapshot/snapshot-holder.js';
export type { RouteHandlers, RouteOptions, CompareHandlers, FailureClassifier, Redactor } from './outcomes/path-runner.js';

/** Where the client stands: `connecting` until the service is first heard, `streaming` while the stream is up, `polling` while it is not, `closed` after `close()`. */
export type ClientState = 'connecting' | 'streaming' | 'polling' | 'closed';

/** The last background failure, as plain data (safe to put in a health endpoint or a log). */
export interface ClientErrorInfo {
  readonly code: SwitchyardErrorCode;
  readonly operation: SwitchyardOperation;
  readonly message: string;
  /** Set when the service answered with an HTTP error. */
  readonly httpStatus?: number;
  /** When it happened. */
  readonly at: Date;
}

/** What `status()` reports. */
export interface ClientStatus {
  readonly state: ClientState;
  /** The revision of the snapshot in use, or null when there is none. */
  readonly revision: number | null;
  readonly source: SnapshotSource;
  /** True while the service is heard: the stream is open, or the last poll succeeded. */
  readonly connected: boolean;
  /** When the service stopped being heard (null while connected, or before the first attempt ended). */
  readonly staleSince: Date | null;
  /** The most recent background failure (kept after recovery; compare `at` with `staleSince`). */
  readonly lastError: ClientErrorInfo | null;
}

/** What `onChange` listeners receive when a new revision from the service is in use. */
export interface ChangeEvent {
  readonly revision: number;
  /** The revision used before, or null when there was no configuration. */
  readonly previousRevision: number | null;
  /** The slices that may decide differently now (added, removed, changed, or using a changed segment), sorted. */
  readonly changedSlices: readonly string[];
}

/** How many decisions a slice got on each path since the client was created. */
export interface PathCounts {
  readonly NEW: number;
  readonly LEGACY: number;
}

/** One call's outcome, for {@link SwitchyardClient.recordOutcome}. */
export interface Outcome {
  /** False when the call failed. */
  readonly ok: boolean;
  /** How long it took, in milliseconds (fractions allowed), measured with a monotonic clock. */
  readonly durationMs: number;
}

/** A Switchyard client: local decisions from a snapshot kept current in the background. Create with {@link createClient}. */
export interface SwitchyardClient {
  /**
   * Legacy or new, for this subject of this slice. Synchronous, no I/O, never throws: an unknown
   * slice, a bad context, or any failure answers `LEGACY`.
   *
   * @param slice - the slice key, e.g. `payments.provider.mpesa`.
   * @param context - the subject's attributes (`{ userId: '42', country: 'KE' }`), as the service's `evaluate` takes them.
   */
  decide(slice: string, context: EvaluationContext | null | undefined): Path;
  /** Like `decide`, with the reason (and the rule index for `RULE`). The returned object is shared and frozen. Never throws. */
  explain(slice: string, context: EvaluationContext | null | undefined): Decision;
  /**
   * Calls `handlers.next()` when the decision is NEW, `handlers.legacy()` otherwise, and returns its
   * result. Exceptions thrown by the handlers are the host's own and propagate unchanged; a
   * returned promise is returned as is (the same object).
   *
   * Measures the call for the slice's outcomes (docs/outcomes.md): its duration, until the handler
   * returns or its promise settles, and whether it failed: it threw, its promise rejected, or
   * `isFailure` (this call's, else the client option) says the result is a failure. Sent with the
   * usage reports. Measuring never throws into the caller.
   */
  route<T>(slice: string, context: EvaluationContext | null | undefined, handlers: RouteHandlers<T>, options?: RouteOptions<T>): T;
  /**
   * Serves the decided path exactly as `route` does and, on the share of calls the slice's
   * `shadowPercent` sets (a random draw per call), also runs the path not served, off the caller's
   * critical path, and compares the two results: structurally, after `normalize`, or with `equal`.
   * Comparisons, mismatches, failures and timeouts of the other path, and up to 5 mismatch samples
   * per slice (hashed subject, diff after `redact`) go with the usage reports.
   *
   * **Only for side-effect-free paths (reads): the path not served really runs.**
   */
  compare<T, N = Awaited<T>>(slice: string, context: EvaluationContext | null | undefined, handlers: CompareHandlers<T, N>): T;
  /**
   * Records one call's outcome for hosts that do not call through `route` (e.g. the path was
   * chosen with `decide` and measured by the host). Ignored when `path` is not `NEW` or `LEGACY`,
   * `ok` not a boolean or `durationMs` not a number. Does not count a decision. Never throws.
   */
  recordOutcome(slice: string, path: Path, outcome: Outcome): void;
  /**
   * Calls `listener` after each new revision from the service is in use. Returns the function that
   * unsubscribes. A listener that throws is reported (`LISTENER_FAILED`) and does not stop the others.
   */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /**
   * Calls `listener` with the new `status()` when the service starts or stops being heard
   * (`connected` flips) and after each background failure (a new `lastError`), so that an
   * integration (the OpenFeature provider) can follow staleness without polling `status()`.
   * Returns the function that unsubscribes. A listener that throws is reported (`LISTENER_FAILED`).
   */
  onStatusChange(listener: (status: ClientStatus) => void): () => void;
  /**
   * The context attribute that identifies subjects of `slice` (its stickiness attribute, e.g.
   * `userId`) in the snapshot in use, or undefined when the slice is unknown. No I/O, no allocation.
   */
  stickinessAttribute(slice: string): string | undefined;
  /** Connection state, snapshot revision and source, staleness, last error. */
  status(): ClientStatus;
  /** Decisions per slice and path since creation (`decide`, `explain` and `route` all count). A copy. */
  counts(): Record<string, PathCounts>;
  /**
   * Stops the stream, polling, timers and pending backup writes (resolves when all are done), and
   * sends a final usage report (`final: true`: the service then shows this instance as gone), waiting at most a second for it.
   * A closed client keeps answering from its last snapshot.
   */
  close(): Promise<void>;
}

/**
 * What the client is built with besides its options: time and storage. Hosts never pass these
 * (createClient uses the system clock and the storage its options name); tests do, through
 * {@link createClientWith}.
 */
export interface ClientPorts {
  readonly clock: Clock;
  readonly random: Random;
  /** Where to start from before the service is heard (the `bootstrap` option). */
  readonly bootstrap: SnapshotReader | undefined;
  /** Where snapshots from the service are kept and read back at start (the `backupFile` option). */
  readonly backup: SnapshotStore | undefined;
  /** What outcome durations are measured with (`performance.now`). */
  readonly monotonic: Monotonic;
}

/**
 * Creates a client and starts keeping its snapshot current.
 *
 * Resolves once the first snapshot from the service is in use, or after `initTimeoutMs`
 * (default 2 s), whichever comes first; until the service is heard, decisions come from the
 * newer of bootstrap and backup file, else are LEGACY. It never rejects because the service is
 * unreachable or refuses the token (see `onError` and `status()`).
 *
 * @throws TypeError (as a rejection) when the options are invalid: not an http(s) URL, an empty
 *   token or app name, a timing that is not a positive number.
 *
 * @example
 * ```ts
 * const switchyard = await createClient({ url: process.env.SWITCHYARD_URL!, token: process.env.SWITCHYARD_TOKEN!, appName: 'payments-api' });
 * if (switchyard.decide('payments.provider.mpesa', { userId: req.user.id }) === 'NEW') { ... }
 * ```
 */
export async function createClient(options: ClientOptions): Promise<SwitchyardClient> {
  return createClientWith(options, {});
}

/**
 * createClient with some ports replaced: the SDK's own tests pass a clock they move by hand.
 * Not exported from the package (index.ts): hosts have no use for it.
 */
export async function createClientWith(options: ClientOptions, ports: Partial<ClientPorts>): Promise<SwitchyardClient> {
  const resolved = resolveOptions(options);
  const client = new Client(resolved, { clock: systemClock, random: Math.random, monotonic: systemMonotonic, ...resolved.storage, ...ports });
  await client.loadInitial();
  client.start();
  await client.waitForService();
  return client;
}

/** Distinct slice keys counted at most: a host that passes made-up keys must not grow memory forever. */
const MAX_COUNTED_SLICES = 10_000;
/** Longer keys cannot be slice keys (DESIGN.md: at most 128 characters) and are not counted. */
const MAX_COUNTED_KEY_LENGTH = 128;

interface MutableCounts {
  NEW: number;
  LEGACY: number;
}

class Client implements SwitchyardClient {
  private readonly snapshot: SnapshotHolder;
  private readonly sync: SnapshotSync;
  /** Usage reports; undefined with `metrics: false`. */
  private readonly metrics: MetricsReporter | undefined;

  private readonly counters = new Map<string, MutableCounts>();
  /** The slice counted last and its counts (entries are never removed from `counters`, so the memo stays valid). */
  private lastCountedKey: string | undefined = undefined;
  private lastCounts: MutableCounts | undefined = undefined;
  /** Outcomes and comparisons since the last accepted report (bounded: outcome-recorder.ts). */
  private readonly outcomes: OutcomeRecorder;
  private readonly coverage = new SegmentCoverageRecorder();
  /** Decisions until the next one sampled for segment coverage (see sampleCoverage). */
  private coverageCountdown = COVERAGE_SAMPLE_EVERY;
  private readonly runner: PathRunner;
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly statusListeners = new Set<(status: ClientStatus) => void>();
  /** Set while status listeners run: a failure they cause is reported without calling them again. */
  private emittingStatus = false;
  private lastError: ClientErrorInfo | null = null;
  private readonly serviceWaiters: (() => void)[] = [];

  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly ports: ClientPorts,
  ) {
    const { clock, random } = ports;
    const report = (error: SwitchyardError): void => this.report(error);
    this.outcomes = new OutcomeRecorder(random);
    this.runner = new PathRunner({
      enabled: options.metrics !== null,
      recorder: this.outcomes,
      monotonic: ports.monotonic,
      clock,
      isFailure: options.isFailure,
      redact: options.redact,
      report,
    });
    this.snapshot = new SnapshotHolder({ clock, random, backup: ports.backup, report, onServiceSnapshot: (change) => this.onServiceSnapshot(change) });
    this.sync = new SnapshotSync({
      transport: options.transport,
      streaming: options.streaming,
      pollIntervalMs: options.pollIntervalMs,
      backoff: options.backoff,
      clock,
      random,
      target: this.snapshot,
      report,
      onConnectedChange: () => this.emitStatus(),
    });
    if (options.metrics !== null) {
      this.metrics = new MetricsReporter({
        ...options.metrics,
        transport: options.transport,
        clock,
        random,
        source: {
          counts: (include) => this.countsOf(include),
          sync: () => syncOf(this.status(), clock.now()),
          outcomes: this.outcomes,
          coverage: this.coverage,
          isWatched: (slice) => this.snapshot.current.isWatched(slice),
        },
        onFailure: report,
      });
    }
  }

  // ---------------------------------------------------------------- decisions (the hot path)

  decide(slice: string, context: EvaluationContext | null | undefined): Path {
    try {
      const path = this.snapshot.current.decide(slice, context);
      this.count(slice, path);
      if (--this.coverageCountdown === 0) this.sampleCoverage(slice, context);
      return path;
    } catch {
      // The core does not throw; this is the last line of defence that the host never sees an exception.
      return 'LEGACY';
    }
  }

  explain(slice: string, context: EvaluationContext | null | undefined): Decision {
    try {
      const decision = this.snapshot.current.explain(slice, context);
      this.count(slice, decision.path);
      if (--this.coverageCountdown === 0) this.sampleCoverage(slice, context);
      return decision;
    } catch {
      return ERROR_DECISION;
    }
  }

  route<T>(slice: string, context: EvaluationContext | null | undefined, handlers: RouteHandlers<T>, options?: RouteOptions<T>): T {
    const isFailure = options === undefined || options.isFailure === undefined ? this.options.isFailure : options.isFailure;
    return this.runner.route(slice, this.decide(slice, context), handlers, isFailure);
  }

  compare<T, N = Awaited<T>>(slice: string, context: EvaluationContext | null | undefined, handlers: CompareHandlers<T, N>): T {
    const path = this.decide(slice, context);
    let sampled: boolean;
    let subject: string | undefined;
    try {
      const snapshot = this.snapshot.current;
      const basisPoints = snapshot.shadowBasisPoints(slice);
      sampled = basisPoints > 0 && this.ports.random() * MAX_BASIS_POINTS < basisPoints;
      if (sampled) {
        // Read now: the host may reuse the context object once the call returns.
        const attribute = snapshot.stickinessAttribute(slice);
        const value = attribute === undefined || typeof context !== 'object' || context === null ? undefined : context[attribute];
        subject = typeof value === 'string' ? value : undefined;
      }
    } catch {
      // A hostile context (a throwing getter): served, not compared.
      sampled = false;
    }
    return this.runner.compare(slice, path, handlers, sampled, subject);
  }

  recordOutcome(slice: string, path: Path, outcome: Outcome): void {
    try {
      if ((path !== 'NEW' && path !== 'LEGACY') || typeof outcome !== 'object' || outcome === null) return;
      const { ok, durationMs } = outcome;
      if (typeof ok !== 'boolean' || typeof durationMs !== 'number') return;
      this.outcomes.record(slice, path, ok, durationMs);
    } catch {
      // A hostile outcome object (a throwing getter): ignored, never thrown.
    }
  }

  /** About every COVERAGE_SAMPLE_EVERY-th decision: which of the slice's named segments the subject is in (outcomes/segment-coverage.ts). */
  private sampleCoverage(slice: string, context: EvaluationContext | null | undefined): void {
    // The next gap drawn from 1..127 (mean 64), not a fixed 64: a host whose traffic repeats with a
    // period dividing 64 (round-robin over 4 tenants) would otherwise be sampled on one phase only.
    // One draw per sample; with the tests' fixed random (0.5) the gap is exactly 64.
    this.coverageCountdown = 1 + Math.floor(this.ports.random() * (2 * COVERAGE_SAMPLE_EVERY - 1));
    if (this.metrics === undefined) return;
    const snapshot = this.snapshot.current;
    this.coverage.record(slice, snapshot.namedSegments(slice), (segment) => snapshot.inSegment(segment, context));
  }

  /** The memo, else one Map lookup; allocates only the first time a slice key is seen. */
  private count(slice: string, path: Path): void {
    let counts: MutableCounts | undefined;
    // A host decides on the same slice again and again, mostly with the same string: comparing it
    // with the last key is a pointer compare, where the Map hashes and probes.
    if (slice === this.lastCountedKey) counts = this.lastCounts;
    else {
      counts = this.counters.get(slice);
      if (counts === undefined) {
        if (typeof slice !== 'string' || slice.length > MAX_COUNTED_KEY_LENGTH || this.counters.size >= MAX_COUNTED_SLICES) return;
        counts = { NEW: 0, LEGACY: 0 };
        this.counters.set(slice, counts);
      }
      this.lastCountedKey = slice;
      this.lastCounts = counts;
    }
    if (counts === undefined) return; // `slice` is undefined, and nothing was counted yet
    if (path === 'NEW') counts.NEW++;
    else counts.LEGACY++;
  }

  counts(): Record<string, PathCounts> {
    return this.countsOf(undefined);
  }

  /** The counts of the slices `include` accepts (all, without it): a copy. */
  private countsOf(include: ((slice: string) => boolean) | undefined): Record<string, PathCounts> {
    const entries: [string, PathCounts][] = [];
    for (const [slice, { NEW, LEGACY }] of this.counters) if (include === undefined || include(slice)) entries.push([slice, { NEW, LEGACY }]);
    // fromEntries defines own properties: a key such as "__proto__" stays a plain entry.
    return Object.fromEntries(entries);
  }

  stickinessAttribute(slice: string): string | undefined {
    return this.snapshot.current.stickinessAttribute(slice);
  }

  // ---------------------------------------------------------------- observation

  onChange(listener: (event: ChangeEvent) => void): () => void {
    // A wrapper per subscription, so that subscribing the same function twice gives two independent subscriptions.
    const entry = (event: ChangeEvent): void => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  onStatusChange(listener: (status: ClientStatus) => void): () => void {
    const entry = (status: ClientStatus): void => listener(status);
    this.statusListeners.add(entry);
    return () => {
      this.statusListeners.delete(entry);
    };
  }

  status(): ClientStatus {
    return {
      state: this.closed ? 'closed' : this.sync.state,
      revision: this.snapshot.revision,
      source: this.snapshot.source,
      connected: this.sync.connected,
      staleSince: this.sync.staleSince,
      lastError: this.lastError,
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** Bootstrap or backup, whichever is newer (snapshot-holder.ts). */
  loadInitial(): Promise<void> {
    return this.snapshot.loadInitial(this.ports.bootstrap);
  }

  start(): void {
    // Said before any request, so that the cause is named even when the service cannot be reached
    // at all; the requests then go out anyway, and their answers say it again (or prove it wrong).
    const { urlProblem } = this.options;
    if (urlProblem !== undefined) this.report(new SwitchyardError('WRONG_URL', this.options.streaming ? 'stream' : 'poll', urlProblem));
    this.sync.start();
    this.metrics?.start();
  }

  /** Resolves when the first service snapshot is in use, the client closes, or initTimeoutMs passes. */
  waitForService(): Promise<void> {
    // 0: do not wait at all (not even for a timer, which a test's clock would hold back).
    if (this.snapshot.source === 'service' || this.closed || this.options.initTimeoutMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.serviceWaiters;
      // keepAlive, unlike every other timer: `await createClient()` in a script with the service
      // down must still resolve rather than let the process exit mid-await. It is bounded.
      const cancel = this.ports.clock.setTimer(done, this.options.initTimeoutMs, { keepAlive: true });
      function done(): void {
        cancel();
        const index = waiters.indexOf(done);
        if (index !== -1) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private resolveServiceWaiters(): void {
    for (const waiter of this.serviceWaiters.splice(0)) waiter();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Started first, while the status is still the live one; bounded (metrics-reporter.ts).
    const lastReport = this.metrics?.close();
    this.closed = true;
    this.snapshot.close();
    const stopped = this.sync.close();
    this.resolveServiceWaiters();
    await stopped;
    await this.snapshot.flush();
    await lastReport;
  }

  // ---------------------------------------------------------------- events

  /** A new revision from the service is in use: the host's start-up wait ends, listeners and the service hear of it. */
  private onServiceSnapshot(change: ServiceSnapshotChange): void {
    this.resolveServiceWaiters();
    this.emitChange(change);
    // Tell the service soon (with jitter) that this instance holds the new revision.
    this.metrics?.revisionChanged();
  }

  private emitChange(change: ServiceSnapshotChange): void {
    if (this.listeners.size === 0) return; // finding the changed slices is not free; skip it when nobody listens
    const event: ChangeEvent = Object.freeze({
      revision: change.current.revision,
      previousRevision: change.previousRevision,
      changedSlices: Object.freeze([...(change.changedSlices ?? changedSlices(definitionOf(change.previous), definitionOf(change.current)))]),
    });
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.report(new SwitchyardError('LISTENER_FAILED', 'listener', `an onChange listener threw: ${describeError(error)}`, { cause: error }));
      }
    }
  }

  private emitStatus(): void {
    if (this.statusListeners.size === 0 || this.emittingStatus) return;
    this.emittingStatus = true;
    try {
      const status = this.status();
      for (const listener of [...this.statusListeners]) {
        try {
          listener(status);
        } catch (error) {
          this.report(new SwitchyardError('LISTENER_FAILED', 'listener', `an onStatusChange listener threw: ${describeError(error)}`, { cause: error }));
        }
      }
    } finally {
      this.emittingStatus = false;
    }
  }

  private report(error: SwitchyardError): void {
    this.lastError = {
      code: error.code,
      operation: error.operation,
      message: error.message,
      ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
      at: this.ports.clock.now(),
    };
    this.emitStatus();
    const onError = this.options.onError;
    if (onError === undefined) return;
    try {
      onError(error);
    } catch {
      // A broken error handler must not break the client (nor be reported to itself, in a loop).
    }
  }
}
