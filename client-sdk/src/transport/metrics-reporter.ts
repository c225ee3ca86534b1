/**
 * Usage reports: `POST /sdk/v1/metrics` (PROTOCOL.md, "Usage reports"). Every `intervalMs` the
 * reporter sends the decisions counted since the last accepted report, with the revision the client
 * decides with and when it last synced, so that the service can show each slice's real NEW share
 * and which instances hold its latest change (docs/traffic.md).
 *
 * What it promises the host:
 *  - never blocks a decision and never throws: it reads the client's counters (`counts()`, a copy)
 *    on a timer, in the background; failures go to `onError` with operation `metrics`;
 *  - bounded memory: it keeps one number pair per counted slice (the client counts at most
 *    10,000 slices), whatever the outage;
 *  - no tight loop: one attempt per interval, success or not; a refused report (a 4xx that
 *    retrying cannot fix) is dropped, anything else is kept and sent with the next one;
 *  - a service without the endpoint (404: older than this SDK, or an older instance during a
 *    rolling upgrade) is told to `onError` once, then asked again ever more rarely (the interval
 *    doubled per 404, up to an hour) until it answers: no error every minute;
 *  - a new revision from the service is acknowledged within seconds: one report at a random point
 *    of the next few seconds (jitter, so that a fleet does not report at once), coalesced with
 *    the interval timer;
 *  - `close()` sends a last report, marked `final: true` even when nothing was counted (the
 *    service then shows the instance as gone rather than behind), bounded by a short timeout;
 *  - outcomes and comparisons (docs/outcomes.md) travel in the same reports, as figures since the
 *    last accepted report (outcomes/outcome-recorder.ts: taken when a report is built, subtracted
 *    once it is accepted or refused for good, kept and merged with what follows otherwise);
 *  - the slices the configuration marks as watched are also reported every `watchedIntervalMs`
 *    (default 2 s), in reports that carry only them (their decisions, outcomes and comparisons):
 *    none when nothing new happened on them; never two reports in flight at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { compactOf, LATENCY_SCHEME, SLICE_KEY_PATTERN } from '../core/index.js';
import { SwitchyardError } from '../errors.js';
import type { OutcomeBatch } from '../outcomes/outcome-recorder.js';
import type { CoverageBatch } from '../outcomes/segment-coverage.js';
import type { Clock, Random } from '../ports/clock.js';
import { SDK_NAME, SDK_VERSION } from '../version.js';
import { httpError, toTransportError, type TransportContext } from './http.js';
import { REPORT_STREAM_PATH, ReportStream, StreamFailure } from './report-stream.js';

/** The path of the usage report endpoint, relative to the service's base URL. */
export const METRICS_PATH = '/sdk/v1/metrics';

/**
 * The response header by which a service says which versions of the compact outcome form it reads
 * (docs/outcomes.md, "The compact form"), e.g. `1`. Until an accepted report's answer names 1,
 * outcomes go in the `outcomes` member, which every service reads.
 */
export const COMPACT_OUTCOMES_HEADER = 'switchyard-compact-outcomes';
/** The compact form's version this SDK writes. */
export const COMPACT_OUTCOMES_FORMAT = 1;

/**
 * The response header by which a service names its report stream (PROTOCOL.md, "The report
 * stream"). Reports go there while accepted reports' answers name it, through Node's own http.
 */
export const REPORT_STREAM_HEADER = 'switchyard-report-stream';
/**
 * After the report stream failed (not offered after all, cut, no answer), reports go by POST for
 * this long, doubled at each failure in a row (a proxy that always holds request bodies costs one
 * wait for the stream's answer an hour at most), back to this after an answer on the stream.
 */
export const STREAM_RETRY_MS = 60_000;
const MAX_STREAM_RETRY_MS = 60 * 60_000;

/** A new revision is acknowledged at a random point within this long (or the interval, if shorter). */
export const ACK_WINDOW_MS = 5_000;
/** A report in flight is abandoned after this long (it is then kept, and sent with the next one). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The longest pause between attempts while the service answers 404 (it has no usage reports). */
export const MAX_MISSING_BACKOFF_MS = 60 * 60_000;
/** `close()` waits at most this long for the last report. */
export const CLOSE_TIMEOUT_MS = 1_000;

/** What the reporter reads from the client. */
export interface MetricsSource {
  /** Cumulative decisions per slice and path since the client was created (a copy); only the slices `include` accepts, with it. */
  counts(include?: (slice: string) => boolean): Record<string, { readonly NEW: number; readonly LEGACY: number }>;
  /** Outcomes and comparisons since the last accepted report; absent, reports carry none. */
  readonly outcomes?: { take(include?: (slice: string) => boolean): OutcomeBatch; settle(batch: OutcomeBatch): void };
  /** Segment coverage on sampled decisions since the last accepted report (outcomes/segment-coverage.ts); absent, reports carry none. */
  readonly coverage?: { take(include?: (slice: string) => boolean): CoverageBatch; settle(batch: CoverageBatch): void };
  /** True for the slices the configuration marks as watched; absent, none is. */
  readonly isWatched?: (slice: string) => boolean;
  /** The revision decided with (null: none), and when the client last knew it held the service's current configuration (null: never). */
  sync(): { readonly revision: number | null; readonly syncedAt: Date | null };
}

export interface MetricsReporterOptions {
  readonly transport: TransportContext;
  readonly appName: string;
  readonly instanceId: string;
  readonly intervalMs: number;
  /** How often the watched slices are reported (default: not at all apart from `intervalMs`). */
  readonly watchedIntervalMs?: number;
  readonly source: MetricsSource;
  /**
   * Schedules the reports (interval, acknowledgement jitter, the pause after 404s) and dates their
   * buckets. The request timeout and close()'s bound are real time: they bound real I/O.
   */
  readonly clock: Clock;
  readonly random: Random;
  /** Told every failed attempt (already a SwitchyardError with operation `metrics`). */
  readonly onFailure: (error: SwitchyardError) => void;
}

/** The body of one report (PROTOCOL.md). */
export interface MetricsReport {
  readonly appName: string;
  readonly instanceId: string;
  readonly sdkName: string;
  readonly sdkVersion: string;
  readonly revision: number | null;
  readonly syncedAt: string | null;
  readonly bucket: { readonly start: string; readonly stop: string; readonly slices: Record<string, { NEW: number; LEGACY: number }> };
  /** How often this instance reports: the service shows it as gone after three of these in silence. */
  readonly metricsIntervalMs: number;
  /** True on the last report, sent by `close()`: this instance stops. Absent on the others. */
  readonly final?: boolean;
  /** Per slice and path: calls, failures, latency histogram (docs/outcomes.md). Absent when empty. */
  readonly outcomes?: OutcomeBatch['outcomes'];
  /** The same figures as `outcomes`, in the compact form, once the service said it reads it (instead of `outcomes`). */
  readonly compactOutcomes?: CompactOutcomes;
  /** Per slice: comparisons, mismatches, other-path failures and timeouts, mismatch samples. Absent when empty. */
  readonly comparisons?: OutcomeBatch['comparisons'];
  /** Per slice: sampled decisions and, per segment its configuration names, how many were in it. Absent when empty. */
  readonly segmentCoverage?: CoverageBatch;
}

/** `compactOutcomes` (docs/outcomes.md, "The compact form"). */
export interface CompactOutcomes {
  readonly format: number;
  readonly scheme: string;
  /** `[sliceKey, NEW, LEGACY]`, each path 0 (no calls) or `[failures, first bucket, count or -gap, ...]`. */
  readonly slices: [string, CompactPath, CompactPath][];
}
export type CompactPath = 0 | number[];

/** The outcomes of a batch in the compact form. */
export function compactOutcomesOf(outcomes: OutcomeBatch['outcomes']): CompactOutcomes {
  const path = (figures: { failures: number; latency: { buckets: [number, number][] } } | undefined): CompactPath =>
    figures === undefined || figures.latency.buckets.length === 0 ? 0 : [figures.failures, ...compactOf(figures.latency.buckets)];
  const slices: [string, CompactPath, CompactPath][] = [];
  for (const key of Object.keys(outcomes)) {
    const slice = outcomes[key]!;
    slices.push([key, path(slice.NEW), path(slice.LEGACY)]);
  }
  return { format: COMPACT_OUTCOMES_FORMAT, scheme: LATENCY_SCHEME, slices };
}

/** A report ready to send, and what to settle once it is accepted. */
interface BuiltReport {
  readonly report: MetricsReport;
  /** The cumulative counts it covers (only the watched slices' for a watched report). */
  readonly snapshot: Map<string, { NEW: number; LEGACY: number }>;
  readonly batch: OutcomeBatch | undefined;
  /** The segment coverage it carries, settled with it. */
  readonly coverage: CoverageBatch | undefined;
  readonly stop: Date;
  /** True for a report of the watched slices only. */
  readonly partial: boolean;
  /** True when it carries any figure at all. */
  readonly carries: boolean;
  /** True when its outcomes are in the compact form. */
  readonly compact: boolean;
}

type Outcome = 'sent' | 'refused' | 'failed';

/** The service's answer to one report, by POST or on the stream. */
interface Answer {
  readonly ok: boolean;
  readonly status: number;
  header(name: string): string | null;
  /** The SwitchyardError of a refusal (its status, the service's code and message). */
  error(): Promise<SwitchyardError>;
}

export class MetricsReporter {
  /** Cumulative counts as of the last report the service accepted (or refused for good). */
  private reported = new Map<string, { NEW: number; LEGACY: number }>();
  /** When the counting since `reported` began. */
  private since: Date;
  /** When the watched slices were last reported (a full report reports them too). */
  private watchedSince: Date;
  private cancelTimer: (() => void) | undefined;
  private cancelWatchedTimer: (() => void) | undefined;
  private dueAt = Infinity;
  private inFlight: Promise<Outcome> | undefined;
  /** A new revision arrived while a report was in flight: acknowledge it once that one is done. */
  private ackAfterFlight = false;
  private closed = false;
  /** Consecutive 404s: the service has no usage reports (yet); attempts back off meanwhile. */
  private missing = 0;
  /** The last accepted report's answer said the service reads the compact outcome form. */
  private compactOutcomes = false;
  /** Aborted when close() is done: a report still in flight then is abandoned, silently. */
  private readonly lifetime = new AbortController();
  /** The last accepted report's answer named the report stream (report-stream.ts): reports go there. */
  private streamOffered = false;
  /** The report stream, once used. */
  private stream: ReportStream | undefined;
  /** After the stream failed, POSTs until then (real time). */
  private streamBlockedUntil = 0;
  /** The stream's failures in a row. */
  private streamFailures = 0;

  constructor(private readonly options: MetricsReporterOptions) {
    this.since = options.clock.now();
    this.watchedSince = this.since;
  }

  start(): void {
    this.schedule(this.options.intervalMs);
    this.scheduleWatched();
  }

  /** A new revision from the service is in use: report it soon (jitter), so followers are seen to hold it. */
  revisionChanged(): void {
    // A service answering 404 would not record the acknowledgement either.
    if (this.closed || this.missing > 0) return;
    if (this.inFlight !== undefined) {
      this.ackAfterFlight = true;
      return;
    }
    this.schedule(Math.floor(this.options.random() * Math.min(ACK_WINDOW_MS, this.options.intervalMs)));
  }

  /**
   * Stops the timer and sends the final report: what was counted since the last report (if
   * anything), with `final: true`, waiting at most CLOSE_TIMEOUT_MS in all. The revision and sync
   * time are read at once, so the client may go on closing meanwhile.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.cancelWatchedTimer?.();
    this.cancelWatchedTimer = undefined;
    // Real time, not the clock's: it bounds how long the host's close() waits on a socket.
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    const sync = this.options.source.sync();
    try {
      // A report in flight: wait for it (it may carry most of the counts), then send the rest.
      if (this.inFlight !== undefined && (await withTimeout(this.inFlight, CLOSE_TIMEOUT_MS)) === undefined) return;
      const left = deadline - Date.now();
      // Sent even with nothing counted: it tells the service this instance is gone (who-follows
      // then stops waiting for it), which no silence can say sooner than a few missed intervals.
      // Not to a service that answered 404: it has no usage reports to end.
      if (left <= 0 || this.missing > 0) return;
      await this.send(this.build(sync, true), left);
    } finally {
      this.lifetime.abort();
      // The request's end: the service answers what it has read, then ends the stream.
      this.stream?.close();
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    const at = this.options.clock.now().getTime() + delayMs;
    // Coalesced: a report already due sooner covers this one too.
    if (this.cancelTimer !== undefined && this.dueAt <= at) return;
    this.cancelTimer?.();
    this.dueAt = at;
    this.cancelTimer = this.options.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.dueAt = Infinity;
      void this.tick();
    }, delayMs);
  }

  private scheduleWatched(): void {
    const every = this.options.watchedIntervalMs;
    if (this.closed || every === undefined || this.options.source.isWatched === undefined) return;
    this.cancelWatchedTimer = this.options.clock.setTimer(() => {
      this.cancelWatchedTimer = undefined;
      void this.watchedTick();
    }, every);
  }

  /** The report of the watched slices: sent when there is something new on them, and no report is in flight or 404ed. */
  private async watchedTick(): Promise<void> {
    try {
      if (this.closed || this.inFlight !== undefined || this.missing > 0) return;
      const built = this.build(undefined, false, this.options.source.isWatched);
      if (!built.carries) return;
      await this.fly(built);
    } catch (error) {
      this.fail(new SwitchyardError('INTERNAL_ERROR', 'metrics', `the watched slices' report failed: ${error instanceof Error ? error.message : String(error)}`));
    } finally {
      this.scheduleWatched();
    }
  }

  /** Sends `built` as the one report in flight. */
  private async fly(built: BuiltReport): Promise<Outcome> {
    const flight = this.send(built, REQUEST_TIMEOUT_MS);
    this.inFlight = flight;
    try {
      return await flight;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async tick(): Promise<void> {
    // A watched slices' report in flight: this one follows it (never two at once, never skipped).
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.closed) return;
    this.ackAfterFlight = false;
    await this.fly(this.build());
    if (this.closed) return;
    // The next report one interval after this one, success or not: never a tight loop; rarer
    // while the service has no endpoint for it.
    const interval = this.options.intervalMs;
    this.schedule(this.missing === 0 ? interval : Math.min(interval * 2 ** Math.min(this.missing, 30), Math.max(interval, MAX_MISSING_BACKOFF_MS)));
    if (this.ackAfterFlight) {
      this.ackAfterFlight = false;
      this.revisionChanged();
    }
  }

  /**
   * The report of everything counted since the last accepted one, and the counters it covers;
   * `final` for close()'s; with `include`, only the slices it accepts (the watched slices' report).
   */
  private build(sync = this.options.source.sync(), final = false, include?: (slice: string) => boolean): BuiltReport {
    const stop = this.options.clock.now();
    const counts = this.options.source.counts(include);
    const snapshot = new Map<string, { NEW: number; LEGACY: number }>();
    // A null-prototype object: a slice named "__proto__" (not a valid key, skipped anyway) stays data.
    const slices = Object.create(null) as Record<string, { NEW: number; LEGACY: number }>;
    for (const key of Object.keys(counts)) {
      const now = counts[key]!;
      snapshot.set(key, { NEW: now.NEW, LEGACY: now.LEGACY });
      // Keys that cannot be slice keys (the host's typos in case or length) would make the service
      // refuse the whole report: they are left out (and their counts forgotten with the report).
      if (!SLICE_KEY_PATTERN.test(key)) continue;
      const before = this.reported.get(key);
      const NEW = now.NEW - (before?.NEW ?? 0);
      const LEGACY = now.LEGACY - (before?.LEGACY ?? 0);
      if (NEW > 0 || LEGACY > 0) slices[key] = { NEW: Math.max(0, NEW), LEGACY: Math.max(0, LEGACY) };
    }
    const { revision, syncedAt } = sync;
    const batch = this.options.source.outcomes?.take(include);
    const hasOutcomes = batch !== undefined && Object.keys(batch.outcomes).length > 0;
    const hasComparisons = batch !== undefined && Object.keys(batch.comparisons).length > 0;
    const compact = hasOutcomes && this.compactOutcomes;
    const coverage = this.options.source.coverage?.take(include);
    const hasCoverage = coverage !== undefined && Object.keys(coverage).length > 0;
    return {
      report: {
        appName: this.options.appName,
        instanceId: this.options.instanceId,
        sdkName: SDK_NAME,
        sdkVersion: SDK_VERSION,
        revision,
        syncedAt: syncedAt === null ? null : syncedAt.toISOString(),
        bucket: { start: (include === undefined ? this.since : this.watchedSince).toISOString(), stop: stop.toISOString(), slices },
        metricsIntervalMs: this.options.intervalMs,
        ...(final ? { final: true } : {}),
        ...(hasOutcomes ? (compact ? { compactOutcomes: compactOutcomesOf(batch.outcomes) } : { outcomes: batch.outcomes }) : {}),
        ...(hasComparisons ? { comparisons: batch.comparisons } : {}),
        ...(hasCoverage ? { segmentCoverage: coverage } : {}),
      },
      coverage: hasCoverage ? coverage : undefined,
      snapshot,
      batch,
      stop,
      partial: include !== undefined,
      carries: hasOutcomes || hasComparisons || Object.keys(slices).length > 0,
      compact,
    };
  }

  /** One attempt. Never rejects. */
  private async send(built: BuiltReport, timeoutMs: number): Promise<Outcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    timer.unref();
    const abandon = (): void => controller.abort();
    this.lifetime.signal.addEventListener('abort', abandon, { once: true });
    const startedAt = Date.now();
    let outcome: Outcome;
    // False when a service that does not read the compact form took the report: it ignored the outcomes.
    let outcomesTaken = true;
    try {
      const body = JSON.stringify(built.report);
      const answer = (await this.viaStream(body, timeoutMs)) ?? (await this.post(body, controller.signal, timeoutMs - (Date.now() - startedAt)));
      if (answer.ok) {
        outcome = 'sent';
        this.missing = 0;
        // Behind a load balancer during an upgrade, the next report may reach an older instance:
        // each answer says afresh whether the form is read, and a compact report an instance took
        // without saying so has its outcomes kept and sent again in the `outcomes` member.
        const readsCompact = readsCompactOutcomes(answer.header(COMPACT_OUTCOMES_HEADER));
        if (built.compact && !readsCompact) outcomesTaken = false;
        this.compactOutcomes = readsCompact;
        // Likewise whether the service takes reports as a stream.
        this.streamOffered = answer.header(REPORT_STREAM_HEADER) === REPORT_STREAM_PATH;
      } else {
        const error = await answer.error();
        // 400, 404, 413...: the service will refuse these counts again; drop them rather than
        // resend them forever. 401/403 (a token fixed later), 408, 429 and 5xx: keep them.
        outcome = isPermanent(answer.status) ? 'refused' : 'failed';
        this.missing = answer.status === 404 ? this.missing + 1 : 0;
        // A service without usage reports is said once per streak, not at every attempt.
        if (this.missing <= 1) this.fail(error);
      }
    } catch (error) {
      // Abandoned at close: not a failure worth telling the host about.
      if (!this.lifetime.signal.aborted) {
        this.fail(
          error instanceof SwitchyardError
            ? error
            : controller.signal.aborted
              ? new SwitchyardError('TIMEOUT', 'metrics', `no answer to POST ${METRICS_PATH} within ${timeoutMs} ms`)
              : (toTransportError(error, controller.signal, 'metrics') as SwitchyardError),
        );
      }
      outcome = 'failed';
    } finally {
      clearTimeout(timer);
      this.lifetime.signal.removeEventListener('abort', abandon);
    }
    if (outcome !== 'failed') {
      // Merged, not replaced: a watched slices' report covers only their counters.
      for (const [key, counts] of built.snapshot) this.reported.set(key, counts);
      if (built.batch !== undefined) this.options.source.outcomes?.settle(outcomesTaken ? built.batch : withoutOutcomes(built.batch));
      if (built.coverage !== undefined) this.options.source.coverage?.settle(built.coverage);
      this.watchedSince = built.stop;
      if (!built.partial) this.since = built.stop;
    }
    return outcome;
  }

  /** `POST /sdk/v1/metrics` with `body`. */
  private async post(body: string, signal: AbortSignal, timeoutMs: number): Promise<Answer> {
    const { transport } = this.options;
    if (timeoutMs <= 0) throw new SwitchyardError('TIMEOUT', 'metrics', `no answer to POST ${METRICS_PATH} in time`);
    const response = await transport.fetch(transport.baseUrl + METRICS_PATH, {
      method: 'POST',
      headers: { ...transport.headers, 'content-type': 'application/json' },
      body,
      signal,
    });
    if (response.ok) await response.body?.cancel();
    return {
      ok: response.ok,
      status: response.status,
      header: (name) => response.headers.get(name),
      error: () => httpError(response, 'metrics', `POST ${METRICS_PATH}`),
    };
  }

  /**
   * `body` on the report stream (report-stream.ts), when the service offers one and the transport
   * is Node's own; undefined when the report is to go by POST instead: the stream could not be
   * opened, or the service ended it before taking the report twice in a row. A stream that fails is
   * not tried again for STREAM_RETRY_MS. Throws (a SwitchyardError) when the report was written and
   * its fate is unknown (no answer in time, the connection cut): it is then kept, as after a POST
   * that got no answer.
   */
  private async viaStream(body: string, timeoutMs: number): Promise<Answer | undefined> {
    const { transport } = this.options;
    if (!this.streamOffered || !transport.nodeStream || Date.now() < this.streamBlockedUntil) return undefined;
    this.stream ??= new ReportStream(transport.baseUrl, transport.headers);
    const stream = this.stream;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await stream.send(body, Math.max(1, deadline - Date.now()));
        this.streamFailures = 0;
        const head = answer.head;
        return {
          ok: answer.status === 202,
          status: answer.status,
          header: (name) => {
            const value = head[name];
            return typeof value === 'string' ? value : null;
          },
          error: () => httpError(new Response(answer.line, { status: answer.status }), 'metrics', `POST ${REPORT_STREAM_PATH}`),
        };
      } catch (error) {
        if (!(error instanceof StreamFailure)) throw error;
        // Ended cleanly before its answer (the stream's lifetime, a shutdown): not taken; once more on a new stream.
        if (error.reason === 'unanswered' && attempt === 1) continue;
        this.streamFailures++;
        this.streamBlockedUntil = Date.now() + Math.min(STREAM_RETRY_MS * 2 ** Math.min(this.streamFailures - 1, 30), MAX_STREAM_RETRY_MS);
        if (!error.written || error.reason === 'unanswered') return undefined;
        throw new SwitchyardError(error.reason === 'timeout' ? 'TIMEOUT' : 'NETWORK_ERROR', 'metrics', error.message);
      }
    }
  }

  private fail(error: SwitchyardError): void {
    try {
      this.options.onFailure(error);
    } catch {
      // The client's own reporting swallows handler failures; nothing to add here.
    }
  }
}

/** Whether a `switchyard-compact-outcomes` header value names the version this SDK writes. */
function readsCompactOutcomes(header: string | null): boolean {
  return header !== null && header.split(',').some((version) => version.trim() === String(COMPACT_OUTCOMES_FORMAT));
}

/** The batch with only its comparisons to settle (its outcomes were not taken). */
function withoutOutcomes(batch: OutcomeBatch): OutcomeBatch {
  return { ...batch, taken: batch.taken.map((t) => ({ ...t, legacy: undefined, next: undefined })) };
}

function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 408 && status !== 429;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    void promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** The part of the client's status a report needs (ClientStatus, structurally). */
export interface SyncStatus {
  readonly revision: number | null;
  readonly source: string;
  readonly connected: boolean;
  readonly staleSince: Date | null;
}

/**
 * The revision in use, and when the client last knew it held the service's current configuration:
 * now while the stream is open (it carries every change as it happens) or the last poll succeeded;
 * else the moment the service stopped being heard; never, while nothing came from the service.
 */
export function syncOf(status: SyncStatus, now: Date = new Date()): { revision: number | null; syncedAt: Date | null } {
  const syncedAt = status.source !== 'service' ? null : status.connected ? now : status.staleSince;
  return { revision: status.revision, syncedAt };
}

/** `<host name>-<process id>-<6 random hex digits>`, printable ASCII, at most 200 characters. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^\x21-\x7e]/g, '_')
      .slice(0, 180) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
