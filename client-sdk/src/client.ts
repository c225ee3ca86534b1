/**
 * SwitchyardClient: transport → snapshot → core.
 *
 * The client holds one compiled snapshot and answers every decision from it, synchronously, with
 * no I/O. In the background it keeps that snapshot current: the stream first (a delta per
 * revision on top of the one held, else the whole snapshot: PROTOCOL.md), polling while the
 * stream is unavailable, capped backoff
 * with jitter between failed attempts. Whatever happens in the background, the last good snapshot
 * keeps answering, and trouble is reported through `onError` and `status()`, never thrown.
 *
 * The transport modules only fetch; every decision about when to fetch what is taken here, in
 * one place, with the reason next to it.
 */
import {
  applyDelta,
  compactSnapshot,
  compileSnapshot,
  definitionOf,
  ERROR_DECISION,
  type CompiledSnapshot,
  type Decision,
  type EvaluationContext,
  type Path,
  type SnapshotDefinition,
} from './core/index.js';
import { isAuthFailure, SwitchyardError, type SwitchyardErrorCode, type SwitchyardOperation } from './errors.js';
import { changedSlices } from './snapshot-diff.js';
import { BackupFileWriter, readSnapshotFile } from './storage/backup-file.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './transport/backoff.js';
import type { TransportContext } from './transport/http.js';
import { defaultInstanceId, MetricsReporter, syncOf } from './transport/metrics-reporter.js';
import { fetchSnapshot } from './transport/poll.js';
import type { ServerSentEvent } from './transport/sse-parser.js';
import { readStream } from './transport/stream.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

/** Options of {@link createClient}. Only `url`, `token` and `appName` are required. */
export interface ClientOptions {
  /** The Switchyard service's base URL, e.g. `https://switchyard.internal` (the SDK appends `/sdk/v1/...`). */
  readonly url: string;
  /** An API token; role `sdk` is enough. Sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** The name of the host application, sent as `x-switchyard-app` (printable ASCII). */
  readonly appName: string;
  /**
   * Configuration to answer from until the service is heard: a snapshot (the JSON of
   * `GET /sdk/v1/snapshot`), or `{ file }` naming a file that holds one. At start, of bootstrap
   * and `backupFile`, the one with the newer revision is used; an unreadable one is reported.
   */
  readonly bootstrap?: SnapshotDefinition | { readonly file: string };
  /**
   * A file where the SDK keeps the last snapshot from the service (written atomically on every new
   * revision, in the background) and from which it starts when there is no bootstrap, so that a
   * host restarted while the service is down decides as before instead of sending everyone to LEGACY.
   */
  readonly backupFile?: string;
  /**
   * Called for every failure in the background (one call per failed attempt; attempts are backed
   * off, so never in a tight loop). If it throws, the error is swallowed.
   */
  readonly onError?: (error: SwitchyardError) => void;
  /**
   * How long `createClient` waits for the first snapshot from the service before resolving anyway
   * (with the bootstrap, the backup, or nothing). Default 2000. `createClient` never rejects because
   * the service is unreachable.
   */
  readonly initTimeoutMs?: number;
  /** Use the stream (default true). With false, the SDK only polls, every `pollIntervalMs`. */
  readonly streaming?: boolean;
  /** Polling period while the stream is unavailable (or always, with `streaming: false`). Default 5000. */
  readonly pollIntervalMs?: number;
  /**
   * No byte from the service for this long means the stream (or a snapshot request) is dead: the
   * SDK drops it and reconnects. Default 25000 (the service sends a heartbeat every 10 s).
   */
  readonly heartbeatTimeoutMs?: number;
  /** Delays between failed attempts: full jitter between `initialMs` (default 250) and a ceiling doubling up to `maxMs` (default 15000). */
  readonly backoff?: Partial<BackoffOptions>;
  /** The fetch implementation (default: Node's global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Send usage reports to the service (default true): the decisions counted per slice and path
   * (`counts()`), the revision in use and when it last synced, so that the service shows each
   * slice's real NEW share and which instances hold its latest change. `false` sends nothing.
   */
  readonly metrics?: boolean;
  /** How often a usage report is sent. Default 60000. A new revision from the service is also reported within a few seconds. */
  readonly metricsIntervalMs?: number;
  /** This instance in usage reports. Default: host name, process id and a random suffix. Printable ASCII, at most 256 characters. */
  readonly instanceId?: string;
}

/** Where the client stands: `connecting` until the service is first heard, `streaming` while the stream is up, `polling` while it is not, `closed` after `close()`. */
export type ClientState = 'connecting' | 'streaming' | 'polling' | 'closed';

/** Where the snapshot being used came from. `none`: no configuration yet, every decision is LEGACY (`UNKNOWN_SLICE`). */
export type SnapshotSource = 'none' | 'bootstrap' | 'backup' | 'service';

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

/** The two implementations `route` chooses between. */
export interface RouteHandlers<T> {
  /** The legacy path: called for LEGACY, and whenever no configuration is known. */
  readonly legacy: () => T;
  /** The new path: called for NEW. */
  readonly next: () => T;
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
   * result. Exceptions thrown by the handlers are the host's own and propagate unchanged.
   */
  route<T>(slice: string, context: EvaluationContext | null | undefined, handlers: RouteHandlers<T>): T;
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
   * sends a last usage report (waiting at most a second for it).
   * A closed client keeps answering from its last snapshot.
   */
  close(): Promise<void>;
}

interface ResolvedOptions {
  readonly transport: TransportContext;
  readonly bootstrap: ClientOptions['bootstrap'];
  readonly backupFile: string | undefined;
  readonly onError: ((error: SwitchyardError) => void) | undefined;
  readonly initTimeoutMs: number;
  readonly streaming: boolean;
  readonly pollIntervalMs: number;
  readonly backoff: BackoffOptions;
  /** Null with `metrics: false`. */
  readonly metrics: { readonly appName: string; readonly instanceId: string; readonly intervalMs: number } | null;
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
  const client = new Client(resolveOptions(options));
  await client.loadInitial();
  client.start();
  await client.waitForService();
  return client;
}

/** Distinct slice keys counted at most: a host that passes made-up keys must not grow memory forever. */
const MAX_COUNTED_SLICES = 10_000;
/** Longer keys cannot be slice keys (DESIGN.md: at most 128 characters) and are not counted. */
const MAX_COUNTED_KEY_LENGTH = 128;

/** How soon after a delta its overlay is folded (plus up to as much again, so a fleet does not do it in the same millisecond). */
const COMPACT_DELAY_MS = 1_000;

const NO_CONFIGURATION: CompiledSnapshot = compileSnapshot({ revision: 0, slices: [], segments: [] });

interface MutableCounts {
  NEW: number;
  LEGACY: number;
}

class Client implements SwitchyardClient {
  // What decisions read. Replaced as a whole on every new revision, never mutated.
  private compiled: CompiledSnapshot = NO_CONFIGURATION;
  private revision: number | null = null;
  private source: SnapshotSource = 'none';

  private readonly counters = new Map<string, MutableCounts>();
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly statusListeners = new Set<(status: ClientStatus) => void>();
  /** Set while status listeners run: a failure they cause is reported without calling them again. */
  private emittingStatus = false;

  private closed = false;
  private closing: Promise<void> | undefined;
  /** Aborted by close(): cancels requests in flight and wakes sleeping loops. */
  private readonly lifetime = new AbortController();

  private everConnected = false;
  private streamOpen = false;
  private connected = false;
  private staleSince: Date | null = null;
  private lastError: ClientErrorInfo | null = null;

  private readonly streamBackoff: Backoff;
  private readonly pollBackoff: Backoff;
  private streamTask: Promise<void> | undefined;
  /** True while polls are scheduled (the stream is down, or streaming is off). */
  private polling = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  /** Folds a delta's changes into the snapshot's main map a moment after it is applied (see compactSoon). */
  private compactTimer: ReturnType<typeof setTimeout> | undefined;
  /** The poll in flight: at most one at a time. */
  private pollTask: Promise<void> | undefined;
  /** Someone asked for a poll while one was in flight: run another when it ends (its answer may predate the ask). */
  private pollAgain = false;

  private readonly backup: BackupFileWriter | undefined;
  private readonly serviceWaiters: (() => void)[] = [];
  /** Usage reports (transport/metrics-reporter.ts); undefined with `metrics: false`. */
  private readonly metrics: MetricsReporter | undefined;

  constructor(private readonly options: ResolvedOptions) {
    this.streamBackoff = new Backoff(options.backoff);
    this.pollBackoff = new Backoff(options.backoff);
    if (options.backupFile !== undefined) {
      this.backup = new BackupFileWriter(options.backupFile, (error) =>
        this.report(new SwitchyardError('BACKUP_WRITE_FAILED', 'backup', `cannot write the backup file: ${describe(error)}`, { cause: error })),
      );
    }
    if (options.metrics !== null) {
      this.metrics = new MetricsReporter({
        ...options.metrics,
        transport: options.transport,
        source: { counts: () => this.counts(), sync: () => syncOf(this.status()) },
        onFailure: (error) => this.report(error),
      });
    }
  }

  // ---------------------------------------------------------------- decisions (the hot path)

  decide(slice: string, context: EvaluationContext | null | undefined): Path {
    try {
      const path = this.compiled.decide(slice, context);
      this.count(slice, path);
      return path;
    } catch {
      // The core does not throw; this is the last line of defence that the host never sees an exception.
      return 'LEGACY';
    }
  }

  explain(slice: string, context: EvaluationContext | null | undefined): Decision {
    try {
      const decision = this.compiled.explain(slice, context);
      this.count(slice, decision.path);
      return decision;
    } catch {
      return ERROR_DECISION;
    }
  }

  route<T>(slice: string, context: EvaluationContext | null | undefined, handlers: RouteHandlers<T>): T {
    return this.decide(slice, context) === 'NEW' ? handlers.next() : handlers.legacy();
  }

  /** One Map lookup; allocates only the first time a slice key is seen. */
  private count(slice: string, path: Path): void {
    let counts = this.counters.get(slice);
    if (counts === undefined) {
      if (typeof slice !== 'string' || slice.length > MAX_COUNTED_KEY_LENGTH || this.counters.size >= MAX_COUNTED_SLICES) return;
      counts = { NEW: 0, LEGACY: 0 };
      this.counters.set(slice, counts);
    }
    if (path === 'NEW') counts.NEW++;
    else counts.LEGACY++;
  }

  counts(): Record<string, PathCounts> {
    // fromEntries defines own properties: a key such as "__proto__" stays a plain entry.
    return Object.fromEntries([...this.counters].map(([slice, { NEW, LEGACY }]) => [slice, { NEW, LEGACY }]));
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

  stickinessAttribute(slice: string): string | undefined {
    return this.compiled.stickinessAttribute(slice);
  }

  status(): ClientStatus {
    return {
      state: this.closed ? 'closed' : this.streamOpen ? 'streaming' : this.everConnected ? 'polling' : 'connecting',
      revision: this.revision,
      source: this.source,
      connected: this.connected,
      staleSince: this.staleSince,
      lastError: this.lastError,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Started first, while the status is still the live one; bounded (metrics-reporter.ts).
    const lastReport = this.metrics?.close();
    this.closed = true;
    this.streamOpen = false;
    this.markDisconnected();
    this.stopPolling();
    clearTimeout(this.compactTimer);
    this.lifetime.abort(new Error('the Switchyard client was closed'));
    this.resolveServiceWaiters();
    await Promise.allSettled([this.streamTask, this.pollTask]);
    await this.backup?.flush();
    await lastReport;
  }

  // ---------------------------------------------------------------- start

  /**
   * Bootstrap and backup file, whichever holds the newer revision (the other if that one does
   * not compile), else nothing (LEGACY everywhere). Newer wins because both came from the service
   * at some point: a backup written during an incident holds its rollback, and an older bootstrap
   * baked into the build must not undo it while the service is unreachable.
   */
  async loadInitial(): Promise<void> {
    const candidates: { definition: unknown; source: 'bootstrap' | 'backup' }[] = [];
    if (this.options.bootstrap !== undefined) {
      const definition = await this.readBootstrap(this.options.bootstrap);
      if (definition !== undefined) candidates.push({ definition, source: 'bootstrap' });
    }
    const backup = await this.readBackup();
    if (backup !== undefined) candidates.push({ definition: backup, source: 'backup' });
    candidates.sort((a, b) => revisionOf(b.definition) - revisionOf(a.definition));
    for (const candidate of candidates) if (this.install(candidate.definition, candidate.source)) return;
  }

  /** The backup file's snapshot; undefined when there is none yet or it cannot be read (reported). */
  private async readBackup(): Promise<unknown> {
    const backupFile = this.options.backupFile;
    if (backupFile === undefined) return undefined;
    try {
      const text = await readSnapshotFile(backupFile);
      return text === undefined ? undefined : JSON.parse(text); // undefined: first start on this host
    } catch (error) {
      // A corrupt or unreadable backup is reported and ignored: the service will send a fresh snapshot.
      this.report(new SwitchyardError('BACKUP_READ_FAILED', 'backup', `cannot read the backup file: ${describe(error)}`, { cause: error }));
      return undefined;
    }
  }

  private async readBootstrap(bootstrap: NonNullable<ClientOptions['bootstrap']>): Promise<unknown> {
    try {
      if (isFileReference(bootstrap)) {
        const text = await readSnapshotFile(bootstrap.file);
        if (text === undefined) throw new Error(`no such file: ${bootstrap.file}`);
        return JSON.parse(text);
      }
      // A copy: the host may reuse or mutate its object; ours must stay what was compiled.
      return JSON.parse(JSON.stringify(bootstrap));
    } catch (error) {
      this.report(new SwitchyardError('BOOTSTRAP_FAILED', 'bootstrap', `cannot read the bootstrap: ${describe(error)}`, { cause: error }));
      return undefined;
    }
  }

  start(): void {
    if (this.options.streaming) this.streamTask = this.runStream().catch((error: unknown) => this.internalError(error, 'stream'));
    else this.startPolling(0);
    this.metrics?.start();
  }

  /**
   * The background loops catch every failure they expect; this catches the ones they do not (a bug),
   * so that it is reported instead of becoming an unhandled rejection that would end the host process.
   */
  private internalError(error: unknown, operation: SwitchyardOperation): void {
    this.report(new SwitchyardError('INTERNAL_ERROR', operation, `unexpected failure in the Switchyard SDK: ${describe(error)}`, { cause: error }));
  }

  /** Resolves when the first service snapshot is in use, the client closes, or initTimeoutMs passes. */
  waitForService(): Promise<void> {
    if (this.source === 'service' || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      // Not unref'd, unlike every other timer: `await createClient()` in a script with the service
      // down must still resolve rather than let the process exit mid-await. It is bounded.
      const timer = setTimeout(done, this.options.initTimeoutMs);
      const waiters = this.serviceWaiters;
      function done(): void {
        clearTimeout(timer);
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

  // ---------------------------------------------------------------- the stream

  private async runStream(): Promise<void> {
    while (!this.closed) {
      let failure: SwitchyardError | undefined;
      try {
        await readStream(this.options.transport, this.heldServiceRevision(), this.lifetime.signal, {
          onOpen: () => this.onStreamOpen(),
          onEvent: (event) => this.onStreamEvent(event),
        });
        // The service ended the stream (a deploy, a load balancer recycling long connections).
        // Not reported: nothing has failed yet; if reconnecting fails, that attempt is.
      } catch (error) {
        if (this.closed) return;
        failure = asSwitchyardError(error, 'stream');
        this.report(failure);
      }
      this.streamOpen = false;
      if (this.closed) return;
      this.markDisconnected();

      // Poll while the stream is down. Right away when we hold nothing from the service (at start,
      // the host is waiting for configuration); otherwise at a random point of the first interval,
      // so that the SDKs of a whole fleet that lost the same instance do not all poll at once.
      this.startPolling(this.source === 'service' ? Math.floor(Math.random() * this.options.pollIntervalMs) : 0);

      // 401/403: a bad token or role will not fix itself: retry only at the capped rate (not
      // never: a token fixed on the service side is picked up without restarting the host).
      // Everything else (5xx, 429, network, silence, the service ending the stream): capped
      // exponential backoff with jitter, reset once a connection proves healthy (a heartbeat).
      const delay = failure !== undefined && isAuthFailure(failure) ? this.streamBackoff.capped() : this.streamBackoff.next();
      await this.sleep(delay);
    }
  }

  private onStreamOpen(): void {
    this.streamOpen = true;
    this.everConnected = true;
    this.markConnected();
    // The stream carries every revision: polling would only duplicate it.
    this.stopPolling();
  }

  private onStreamEvent(event: ServerSentEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'snapshot':
        this.offer(event.data, 'stream');
        return;
      case 'delta':
        this.offerDelta(event.data);
        return;
      case 'heartbeat':
        this.onHeartbeat(event.data);
        return;
      default:
      // Unknown event types are ignored: the service may add some without breaking older SDKs.
    }
  }

  private onHeartbeat(data: string): void {
    let revision: unknown;
    try {
      revision = (JSON.parse(data) as { revision?: unknown } | null)?.revision;
    } catch {
      revision = undefined;
    }
    if (typeof revision !== 'number' || !Number.isFinite(revision)) {
      // Reported but not fatal: the stream still proves the connection alive.
      this.report(new SwitchyardError('STREAM_PROTOCOL', 'stream', `a heartbeat without a numeric revision: ${truncate(data)}`));
      return;
    }
    // A heartbeat is the service's sign that the connection is in a steady state: only now does a
    // later drop start again from the shortest backoff (a stream dropped right after opening, again
    // and again, keeps backing off).
    this.streamBackoff.reset();
    const held = this.heldServiceRevision();
    // The service is ahead of us: we missed an event (or it was unreadable). Fetch the snapshot now
    // rather than wait for the next event, which may not come before the next change.
    if (held === undefined || revision > held) this.requestPoll();
  }

  // ---------------------------------------------------------------- polling

  private startPolling(firstDelayMs: number): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    // A poll in flight reschedules itself when it ends.
    if (this.pollTask === undefined) this.schedulePoll(firstDelayMs);
  }

  private stopPolling(): void {
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private schedulePoll(delayMs: number): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.requestPoll();
    }, delayMs);
    // A forgotten client must not keep the host process alive.
    this.pollTimer.unref();
  }

  /** Polls now, unless a poll is in flight (then once more after it). */
  private requestPoll(): void {
    if (this.closed) return;
    if (this.pollTask !== undefined) {
      this.pollAgain = true;
      return;
    }
    this.pollTask = this.runPolls().catch((error: unknown) => this.internalError(error, 'poll'));
  }

  private async runPolls(): Promise<void> {
    let nextDelay: number;
    try {
      do {
        this.pollAgain = false;
        nextDelay = await this.pollOnce();
      } while (this.pollAgain && !this.closed);
    } finally {
      this.pollTask = undefined;
    }
    if (this.polling && !this.closed) this.schedulePoll(nextDelay);
  }

  /** One snapshot request. Returns the delay before the next scheduled poll. */
  private async pollOnce(): Promise<number> {
    const interval = this.options.pollIntervalMs;
    try {
      const result = await fetchSnapshot(this.options.transport, this.heldServiceRevision(), this.lifetime.signal);
      if (this.closed) return interval;
      this.pollBackoff.reset();
      this.everConnected = true;
      this.markConnected();
      // 304: what we hold is current; nothing to do.
      if (result.kind === 'snapshot') this.offer(result.text, 'poll');
      return interval;
    } catch (error) {
      if (this.closed) return interval;
      const failure = asSwitchyardError(error, 'poll');
      this.report(failure);
      // A failed poll while the stream is open (one asked for by a heartbeat) does not make us
      // disconnected: the stream still delivers.
      if (!this.streamOpen) this.markDisconnected();
      // 401/403: retry at the capped rate only (see runStream). Others: back off, but never poll
      // more often than the configured interval.
      return Math.max(interval, isAuthFailure(failure) ? this.pollBackoff.capped() : this.pollBackoff.next());
    }
  }

  // ---------------------------------------------------------------- snapshots

  /** The revision we hold from the service (sent as Last-Event-ID / If-None-Match), if any. */
  private heldServiceRevision(): number | undefined {
    // Not the bootstrap's or backup's revision: they may come from another environment or hold
    // content the service no longer has under that number. Until the service itself has sent a
    // snapshot, ask for the full one.
    return this.source === 'service' && this.revision !== null ? this.revision : undefined;
  }

  /** A snapshot's JSON text from the service. */
  private offer(text: string, operation: 'stream' | 'poll'): void {
    if (this.closed) return;
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch (error) {
      this.report(new SwitchyardError('INVALID_SNAPSHOT', operation, `the service sent a snapshot that is not JSON: ${describe(error)}`, { cause: error }));
      return;
    }
    this.install(definition, 'service', operation, text);
  }

  /** Compiles and switches to a snapshot. Returns false (and keeps the current one) when it is not usable. */
  private install(definition: unknown, source: Exclude<SnapshotSource, 'none'>, operation: SwitchyardOperation = source === 'service' ? 'poll' : source, text?: string): boolean {
    const revision = typeof definition === 'object' && definition !== null ? (definition as { revision?: unknown }).revision : undefined;
    const held = source === 'service' ? this.heldServiceRevision() : undefined;
    if (held !== undefined && typeof revision === 'number') {
      // Already in use (the stream and a poll both brought it): nothing to compile.
      if (revision === held) return true;
      if (revision < held) {
        // Revisions only grow: an older one comes from an instance behind the others. Going back
        // even briefly would undo a rollback or flip subjects between stacks; the next event repairs it.
        this.report(new SwitchyardError('STALE_SNAPSHOT', operation, `the service sent revision ${revision}, older than the ${held} in use; ignored`));
        return false;
      }
    }

    let compiled: CompiledSnapshot;
    try {
      compiled = compileSnapshot(definition as SnapshotDefinition);
    } catch (error) {
      // Not shaped like a snapshot (compileSnapshot's TypeError): keep answering from the last good one.
      const code = source === 'bootstrap' ? 'BOOTSTRAP_FAILED' : source === 'backup' ? 'BACKUP_READ_FAILED' : 'INVALID_SNAPSHOT';
      this.report(new SwitchyardError(code, operation, `unusable snapshot from the ${source}: ${describe(error)}`, { cause: error }));
      return false;
    }
    this.use(compiled, source, { text });
    return true;
  }

  /**
   * A `delta` event's JSON text: the change from the revision we hold to the next (PROTOCOL.md).
   * Applied only on top of exactly its base revision, reusing every compiled slice it leaves alone;
   * otherwise (an event was missed, or a poll moved us) the whole snapshot is fetched instead.
   */
  private offerDelta(text: string): void {
    if (this.closed) return;
    let delta: { revision?: unknown; baseRevision?: unknown } | null;
    try {
      delta = JSON.parse(text) as typeof delta;
    } catch (error) {
      this.report(new SwitchyardError('INVALID_SNAPSHOT', 'stream', `the service sent a delta that is not JSON: ${describe(error)}`, { cause: error }));
      this.requestPoll();
      return;
    }
    const held = this.heldServiceRevision();
    const revision = delta?.revision;
    // Already in use (a poll brought it first).
    if (held !== undefined && typeof revision === 'number' && revision <= held) return;
    if (held === undefined || delta?.baseRevision !== held) {
      this.requestPoll();
      return;
    }
    let applied: ReturnType<typeof applyDelta>;
    try {
      // Cost in proportion to the change: the slices it carries are compiled, the rest reused.
      applied = applyDelta(this.compiled, delta);
    } catch (error) {
      this.report(new SwitchyardError('INVALID_SNAPSHOT', 'stream', `unusable delta from the service: ${describe(error)}`, { cause: error }));
      this.requestPoll();
      return;
    }
    this.use(applied.snapshot, 'service', { changedSlices: applied.changedSlices });
    this.compactSoon();
  }

  /**
   * A delta's snapshot decides through a small overlay of what changed (a second lookup, about 4 ns
   * a decision). Folding it costs a copy of the slice map, so it happens a moment later, off the
   * path of the change: a rollback reaches decisions first, full speed comes back a second after.
   */
  private compactSoon(): void {
    if (this.compactTimer !== undefined || this.closed) return;
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      // Nothing new meanwhile changes what decisions read: the folded snapshot decides identically.
      this.compiled = compactSnapshot(this.compiled);
    }, COMPACT_DELAY_MS + Math.random() * COMPACT_DELAY_MS);
    // A forgotten client must not keep the host process alive.
    this.compactTimer.unref();
  }

  /**
   * Switches decisions to `compiled`; for what the service sent, also keeps the backup and tells
   * listeners.
   *
   * @param change - the snapshot's JSON text when it came whole (written to the backup as is), the
   *   changed slices when a delta said which (otherwise found by comparing the definitions).
   */
  private use(compiled: CompiledSnapshot, source: Exclude<SnapshotSource, 'none'>, change: { readonly text?: string; readonly changedSlices?: readonly string[] } = {}): void {
    const previous = this.compiled;
    const previousRevision = this.revision;
    this.compiled = compiled;
    this.revision = compiled.revision;
    this.source = source;

    if (source === 'service') {
      // Only what the service sent is worth keeping: a bootstrap or backup is already on disk somewhere.
      this.backup?.write(change.text ?? JSON.stringify(definitionOf(compiled)));
      this.resolveServiceWaiters();
      this.emitChange(previousRevision, compiled.revision, () => change.changedSlices ?? changedSlices(definitionOf(previous), definitionOf(compiled)));
      // Tell the service soon (with jitter) that this instance holds the new revision.
      this.metrics?.revisionChanged();
    }
  }

  private emitChange(previousRevision: number | null, revision: number, changed: () => readonly string[]): void {
    if (this.listeners.size === 0) return; // finding the changed slices is not free; skip it when nobody listens
    const event: ChangeEvent = Object.freeze({
      revision,
      previousRevision,
      changedSlices: Object.freeze([...changed()]),
    });
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.report(new SwitchyardError('LISTENER_FAILED', 'listener', `an onChange listener threw: ${describe(error)}`, { cause: error }));
      }
    }
  }

  // ---------------------------------------------------------------- bookkeeping

  private markConnected(): void {
    const flipped = !this.connected;
    this.connected = true;
    this.staleSince = null;
    if (flipped) this.emitStatus();
  }

  private markDisconnected(): void {
    const flipped = this.connected;
    this.connected = false;
    this.staleSince ??= new Date();
    if (flipped) this.emitStatus();
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
          this.report(new SwitchyardError('LISTENER_FAILED', 'listener', `an onStatusChange listener threw: ${describe(error)}`, { cause: error }));
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
      at: new Date(),
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

  /** Waits `ms`, or less if the client closes. The timer does not keep the process alive. */
  private sleep(ms: number): Promise<void> {
    const signal = this.lifetime.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function asSwitchyardError(error: unknown, operation: SwitchyardOperation): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  return new SwitchyardError('NETWORK_ERROR', operation, describe(error), { cause: error });
}

/** A snapshot's revision for ordering candidates; anything unreadable sorts last. */
function revisionOf(definition: unknown): number {
  const revision = typeof definition === 'object' && definition !== null ? (definition as { revision?: unknown }).revision : undefined;
  return typeof revision === 'number' && Number.isFinite(revision) ? revision : -Infinity;
}

function isFileReference(bootstrap: NonNullable<ClientOptions['bootstrap']>): bootstrap is { readonly file: string } {
  return typeof (bootstrap as { file?: unknown }).file === 'string' && !('slices' in bootstrap);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

// ---------------------------------------------------------------- options

/** Header values must be printable ASCII (fetch refuses the rest, on every attempt: fail once, at start). */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createClient needs an options object');
  const { url, token, appName } = options;
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(`options.url is not a URL: ${String(url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`options.url must be http or https: ${url}`);
  if (typeof token !== 'string' || !HEADER_SAFE.test(token)) throw new TypeError('options.token must be a non-empty string of printable ASCII');
  if (typeof appName !== 'string' || !HEADER_SAFE.test(appName)) throw new TypeError('options.appName must be a non-empty string of printable ASCII');
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('options.onError must be a function');
  if (options.backupFile !== undefined && (typeof options.backupFile !== 'string' || options.backupFile === '')) {
    throw new TypeError('options.backupFile must be a file path');
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: use Node >= 20 or pass options.fetch');

  const initialMs = positive(options.backoff?.initialMs, DEFAULT_BACKOFF.initialMs, 'backoff.initialMs');
  const maxMs = positive(options.backoff?.maxMs, DEFAULT_BACKOFF.maxMs, 'backoff.maxMs');
  return {
    transport: {
      // The SDK's paths are absolute under the base: drop a trailing slash so they join cleanly.
      baseUrl: base.href.replace(/\/+$/, ''),
      headers: {
        authorization: `Bearer ${token}`,
        'x-switchyard-app': appName,
        'x-switchyard-sdk': `${SDK_NAME}/${SDK_VERSION}`,
      },
      fetch: fetchImpl,
      nodeStream: options.fetch === undefined,
      idleTimeoutMs: positive(options.heartbeatTimeoutMs, 25_000, 'heartbeatTimeoutMs'),
    },
    bootstrap: options.bootstrap,
    backupFile: options.backupFile,
    onError: options.onError,
    initTimeoutMs: nonNegative(options.initTimeoutMs, 2_000, 'initTimeoutMs'),
    streaming: options.streaming ?? true,
    pollIntervalMs: positive(options.pollIntervalMs, 5_000, 'pollIntervalMs'),
    backoff: { initialMs: Math.min(initialMs, maxMs), maxMs },
    metrics: resolveMetrics(options, appName),
  };
}

function resolveMetrics(options: ClientOptions, appName: string): ResolvedOptions['metrics'] {
  if (options.metrics !== undefined && typeof options.metrics !== 'boolean') throw new TypeError('options.metrics must be true or false');
  const { instanceId } = options;
  if (instanceId !== undefined && (typeof instanceId !== 'string' || !HEADER_SAFE.test(instanceId) || instanceId.trim() === '' || instanceId.length > 256)) {
    throw new TypeError('options.instanceId must be a non-empty string of printable ASCII, at most 256 characters');
  }
  const intervalMs = positive(options.metricsIntervalMs, 60_000, 'metricsIntervalMs');
  if (options.metrics === false) return null;
  return { appName, instanceId: instanceId ?? defaultInstanceId(), intervalMs };
}

/** setTimeout's limit: a longer delay would fire at once (Node warns and uses 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) throw new TypeError(`options.${name} must be a positive number of milliseconds`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) throw new TypeError(`options.${name} must be a number of milliseconds, 0 or more`);
  return value;
}
