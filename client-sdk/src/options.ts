/**
 * The options of createClient: the public `ClientOptions`, and their validation into the settings
 * the client's parts use. Invalid options are the one failure createClient reports by rejecting
 * (a TypeError), at once, before anything starts: every attempt would fail the same way.
 */
import type { SnapshotDefinition } from './core/index.js';
import type { SwitchyardError } from './errors.js';
import type { FailureClassifier, Redactor } from './outcomes/path-runner.js';
import { snapshotInMemory, type SnapshotReader, type SnapshotStore } from './ports/storage.js';
import { snapshotFile } from './storage/backup-file.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './sync/backoff.js';
import { wrongUrlMessage, type TransportContext } from './transport/http.js';
import { defaultInstanceId } from './transport/metrics-reporter.js';
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
  /**
   * How often the decisions, outcomes and comparisons of the slices the configuration marks as
   * watched (docs/outcomes.md) are reported, in a report of their own. Default 2000. The other
   * slices keep `metricsIntervalMs`.
   */
  readonly watchedIntervalMs?: number;
  /**
   * For `route` and `compare`: true when a handler's result (a promise's fulfilled value) is a
   * failure though nothing was thrown, e.g. `(r) => r.status >= 500`. A call may pass its own. A
   * classifier that throws counts the call as a success and is told to `onError` (HOOK_FAILED).
   */
  readonly isFailure?: FailureClassifier;
  /**
   * For `compare`: what a mismatch sample's diff may show of a result (docs/outcomes.md): called
   * with each result (after `normalize`) and its path, it returns the value to diff in its place,
   * e.g. with personal data masked. Nothing else of the results leaves the process. A call may pass its own.
   */
  readonly redact?: Redactor;
}

/** The options, checked, with their defaults. */
export interface ResolvedOptions {
  readonly transport: TransportContext;
  /** Where to start from: the `bootstrap` option, and the backup file (also where snapshots are kept). */
  readonly storage: { readonly bootstrap: SnapshotReader | undefined; readonly backup: SnapshotStore | undefined };
  readonly onError: ((error: SwitchyardError) => void) | undefined;
  readonly isFailure: FailureClassifier | undefined;
  readonly redact: Redactor | undefined;
  readonly initTimeoutMs: number;
  readonly streaming: boolean;
  readonly pollIntervalMs: number;
  readonly backoff: BackoffOptions;
  /** Set when `url` visibly cannot be the service's base URL (the WRONG_URL message, reported at start). */
  readonly urlProblem: string | undefined;
  /** Null with `metrics: false`. */
  readonly metrics: { readonly appName: string; readonly instanceId: string; readonly intervalMs: number; readonly watchedIntervalMs: number } | null;
}

/** Header values must be printable ASCII (fetch refuses the rest, on every attempt: fail once, at start). */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

export function resolveOptions(options: ClientOptions): ResolvedOptions {
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
  if (options.isFailure !== undefined && typeof options.isFailure !== 'function') throw new TypeError('options.isFailure must be a function');
  if (options.redact !== undefined && typeof options.redact !== 'function') throw new TypeError('options.redact must be a function');
  if (options.backupFile !== undefined && (typeof options.backupFile !== 'string' || options.backupFile === '')) {
    throw new TypeError('options.backupFile must be a file path');
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: use Node >= 20 or pass options.fetch');

  const initialMs = positive(options.backoff?.initialMs, DEFAULT_BACKOFF.initialMs, 'backoff.initialMs');
  const maxMs = positive(options.backoff?.maxMs, DEFAULT_BACKOFF.maxMs, 'backoff.maxMs');
  // The SDK's paths are absolute under the base: drop a trailing slash so they join cleanly.
  const baseUrl = base.href.replace(/\/+$/, '');
  return {
    transport: {
      baseUrl,
      headers: {
        authorization: `Bearer ${token}`,
        'x-switchyard-app': appName,
        'x-switchyard-sdk': `${SDK_NAME}/${SDK_VERSION}`,
      },
      fetch: fetchImpl,
      nodeStream: options.fetch === undefined,
      idleTimeoutMs: positive(options.heartbeatTimeoutMs, 25_000, 'heartbeatTimeoutMs'),
    },
    storage: {
      bootstrap: options.bootstrap === undefined ? undefined : isFileReference(options.bootstrap) ? snapshotFile(options.bootstrap.file) : snapshotInMemory(options.bootstrap),
      backup: options.backupFile === undefined ? undefined : snapshotFile(options.backupFile),
    },
    onError: options.onError,
    isFailure: options.isFailure,
    redact: options.redact,
    initTimeoutMs: nonNegative(options.initTimeoutMs, 2_000, 'initTimeoutMs'),
    streaming: options.streaming ?? true,
    pollIntervalMs: positive(options.pollIntervalMs, 5_000, 'pollIntervalMs'),
    backoff: { initialMs: Math.min(initialMs, maxMs), maxMs },
    urlProblem: urlProblemOf(base, baseUrl),
    metrics: resolveMetrics(options, appName),
  };
}

/**
 * The WRONG_URL message when `url` visibly cannot be the service's base URL, else undefined. Only
 * the certain cases, and reported rather than refused: createClient never fails the host for
 * something the service's answers would show anyway (a proxy may serve the service under a path
 * of its own, `https://gateway.example.com/switchyard`, so any other path is tried and judged by
 * the answers: transport/http.ts, endpointError).
 */
function urlProblemOf(base: URL, baseUrl: string): string | undefined {
  const path = base.pathname.replace(/\/+$/, '');
  if (/\/graphql$/i.test(path)) return wrongUrlMessage(baseUrl, 'its path ends with /graphql');
  if (/\/sdk\/v1(\/|$)/i.test(path)) return wrongUrlMessage(baseUrl, 'its path holds /sdk/v1, which the SDK adds itself');
  return undefined;
}

/** `{ file }` names a file; anything else is taken for a snapshot (and reported at start if it is not one). */
function isFileReference(bootstrap: unknown): bootstrap is { readonly file: string } {
  return typeof bootstrap === 'object' && bootstrap !== null && typeof (bootstrap as { file?: unknown }).file === 'string' && !('slices' in bootstrap);
}

function resolveMetrics(options: ClientOptions, appName: string): ResolvedOptions['metrics'] {
  if (options.metrics !== undefined && typeof options.metrics !== 'boolean') throw new TypeError('options.metrics must be true or false');
  const { instanceId } = options;
  if (instanceId !== undefined && (typeof instanceId !== 'string' || !HEADER_SAFE.test(instanceId) || instanceId.trim() === '' || instanceId.length > 256)) {
    throw new TypeError('options.instanceId must be a non-empty string of printable ASCII, at most 256 characters');
  }
  const intervalMs = positive(options.metricsIntervalMs, 60_000, 'metricsIntervalMs');
  const watchedIntervalMs = positive(options.watchedIntervalMs, 2_000, 'watchedIntervalMs');
  if (options.metrics === false) return null;
  return { appName, instanceId: instanceId ?? defaultInstanceId(), intervalMs, watchedIntervalMs };
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
