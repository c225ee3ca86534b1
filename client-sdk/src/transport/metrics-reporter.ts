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
 *    service then shows the instance as gone rather than behind), bounded by a short timeout.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { SLICE_KEY_PATTERN } from '../core/index.js';
import { SwitchyardError } from '../errors.js';
import type { Clock, Random } from '../ports/clock.js';
import { SDK_NAME, SDK_VERSION } from '../version.js';
import { httpError, toTransportError, type TransportContext } from './http.js';

/** The path of the usage report endpoint, relative to the service's base URL. */
export const METRICS_PATH = '/sdk/v1/metrics';

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
  /** Cumulative decisions per slice and path since the client was created (a copy). */
  counts(): Record<string, { readonly NEW: number; readonly LEGACY: number }>;
  /** The revision decided with (null: none), and when the client last knew it held the service's current configuration (null: never). */
  sync(): { readonly revision: number | null; readonly syncedAt: Date | null };
}

export interface MetricsReporterOptions {
  readonly transport: TransportContext;
  readonly appName: string;
  readonly instanceId: string;
  readonly intervalMs: number;
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
}

type Outcome = 'sent' | 'refused' | 'failed';

export class MetricsReporter {
  /** Cumulative counts as of the last report the service accepted (or refused for good). */
  private reported = new Map<string, { NEW: number; LEGACY: number }>();
  /** When the counting since `reported` began. */
  private since: Date;
  private cancelTimer: (() => void) | undefined;
  private dueAt = Infinity;
  private inFlight: Promise<Outcome> | undefined;
  /** A new revision arrived while a report was in flight: acknowledge it once that one is done. */
  private ackAfterFlight = false;
  private closed = false;
  /** Consecutive 404s: the service has no usage reports (yet); attempts back off meanwhile. */
  private missing = 0;
  /** Aborted when close() is done: a report still in flight then is abandoned, silently. */
  private readonly lifetime = new AbortController();

  constructor(private readonly options: MetricsReporterOptions) {
    this.since = options.clock.now();
  }

  start(): void {
    this.schedule(this.options.intervalMs);
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

  private async tick(): Promise<void> {
    if (this.closed || this.inFlight !== undefined) return;
    this.ackAfterFlight = false;
    const flight = this.send(this.build(), REQUEST_TIMEOUT_MS);
    this.inFlight = flight;
    try {
      await flight;
    } finally {
      this.inFlight = undefined;
    }
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

  /** The report of everything counted since the last accepted one, and the counters it covers; `final` for close()'s. */
  private build(sync = this.options.source.sync(), final = false): { report: MetricsReport; snapshot: Map<string, { NEW: number; LEGACY: number }>; stop: Date } {
    const stop = this.options.clock.now();
    const counts = this.options.source.counts();
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
    return {
      report: {
        appName: this.options.appName,
        instanceId: this.options.instanceId,
        sdkName: SDK_NAME,
        sdkVersion: SDK_VERSION,
        revision,
        syncedAt: syncedAt === null ? null : syncedAt.toISOString(),
        bucket: { start: this.since.toISOString(), stop: stop.toISOString(), slices },
        metricsIntervalMs: this.options.intervalMs,
        ...(final ? { final: true } : {}),
      },
      snapshot,
      stop,
    };
  }

  /** One attempt. Never rejects. */
  private async send(built: ReturnType<MetricsReporter['build']>, timeoutMs: number): Promise<Outcome> {
    const { transport } = this.options;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    timer.unref();
    const abandon = (): void => controller.abort();
    this.lifetime.signal.addEventListener('abort', abandon, { once: true });
    let outcome: Outcome;
    try {
      const response = await transport.fetch(transport.baseUrl + METRICS_PATH, {
        method: 'POST',
        headers: { ...transport.headers, 'content-type': 'application/json' },
        body: JSON.stringify(built.report),
        signal: controller.signal,
      });
      if (response.ok) {
        await response.body?.cancel();
        outcome = 'sent';
        this.missing = 0;
      } else {
        const error = await httpError(response, 'metrics', `POST ${METRICS_PATH}`);
        // 400, 404, 413...: the service will refuse these counts again; drop them rather than
        // resend them forever. 401/403 (a token fixed later), 408, 429 and 5xx: keep them.
        outcome = isPermanent(response.status) ? 'refused' : 'failed';
        this.missing = response.status === 404 ? this.missing + 1 : 0;
        // A service without usage reports is said once per streak, not at every attempt.
        if (this.missing <= 1) this.fail(error);
      }
    } catch (error) {
      // Abandoned at close: not a failure worth telling the host about.
      if (!this.lifetime.signal.aborted) {
        this.fail(
          controller.signal.aborted
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
      this.reported = built.snapshot;
      this.since = built.stop;
    }
    return outcome;
  }

  private fail(error: SwitchyardError): void {
    try {
      this.options.onFailure(error);
    } catch {
      // The client's own reporting swallows handler failures; nothing to add here.
    }
  }
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
