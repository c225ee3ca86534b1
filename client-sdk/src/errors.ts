/**
 * What the SDK reports through `onError` and `status().lastError`: a closed set of codes, one
 * class. The SDK never throws these at the host from `decide` / `explain` / `route`; they only
 * describe trouble in the background (transport, files, listeners) so that it is visible.
 */

/**
 * Why something failed in the background. A closed set: hosts may switch on it.
 *
 * - `UNAUTHORIZED`: the service answered 401 (no token, unknown, revoked or expired token). Retried
 *   only at the capped backoff rate: a bad token does not fix itself.
 * - `FORBIDDEN`: 403, the token's role may not read the configuration. Retried like `UNAUTHORIZED`.
 * - `WRONG_URL`: a configuration error: `url` does not lead to the service's SDK endpoints. Reported
 *   at start when it visibly cannot (it ends with `/graphql`, or holds `/sdk/v1`, which the SDK adds
 *   itself), and for every snapshot or stream request answered with a 4xx other than 401, 403,
 *   408 and 429 (a 404; Apollo's CSRF refusal, a 400, at `.../graphql/sdk/v1/...`): the service
 *   itself never answers those requests so. The message names the URL tried and the form
 *   expected (`https://switchyard.example.com`, no path). Retried like `UNAUTHORIZED` (a proxy
 *   route fixed later is picked up without a restart).
 * - `HTTP_ERROR`: any other unexpected answer (5xx, 408, 429, a stream that is not
 *   `text/event-stream`; for usage reports, any 4xx); retried with backoff. `httpStatus` is set.
 * - `NETWORK_ERROR`: no answer at all (connection refused or reset, DNS); retried with backoff.
 * - `TIMEOUT`: nothing received for `heartbeatTimeoutMs` (a silent stream, a hung request).
 * - `STREAM_PROTOCOL`: the stream carried something unreadable (a heartbeat without a revision, a line
 *   longer than the SDK accepts); the SDK ignores that event, or reconnects when it cannot go on.
 * - `INVALID_SNAPSHOT`: a snapshot that is not JSON or not shaped like a snapshot. The last good
 *   snapshot keeps answering.
 * - `STALE_SNAPSHOT`: the service sent a revision older than the one held (an instance lagging behind
 *   the others). Ignored: revisions only grow, and going back would flip subjects between stacks.
 * - `BOOTSTRAP_FAILED`: the `bootstrap` data or file could not be read or compiled (the backup file,
 *   if any, is tried next).
 * - `BACKUP_READ_FAILED` / `BACKUP_WRITE_FAILED`: the backup file could not be read at start (it is
 *   ignored) or written after a new revision (the next revision tries again).
 * - `LISTENER_FAILED`: an `onChange` listener threw; the others still ran.
 * - `HOOK_FAILED`: a host hook of `route` or `compare` threw (`isFailure`: the call then counts as a
 *   success; `normalize` or `equal`: that comparison is not counted; `redact`: that mismatch sample
 *   is not kept). Told at most once a minute per hook, however often it throws; never thrown to the caller.
 * - `INTERNAL_ERROR`: a bug in the SDK's background work (please report it). Contained: it never
 *   reaches the host as an exception or an unhandled rejection, and decisions go on from the last
 *   snapshot.
 */
export type SwitchyardErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'WRONG_URL'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'STREAM_PROTOCOL'
  | 'INVALID_SNAPSHOT'
  | 'STALE_SNAPSHOT'
  | 'BOOTSTRAP_FAILED'
  | 'BACKUP_READ_FAILED'
  | 'BACKUP_WRITE_FAILED'
  | 'LISTENER_FAILED'
  | 'HOOK_FAILED'
  | 'INTERNAL_ERROR';

/**
 * Which background activity failed. `metrics`: sending a usage report (`POST /sdk/v1/metrics`);
 * its counts are kept and sent with the next report, except when the service refused them (4xx).
 * `outcomes`: measuring or comparing the paths of `route` / `compare` (docs/outcomes.md).
 */
export type SwitchyardOperation = 'stream' | 'poll' | 'bootstrap' | 'backup' | 'listener' | 'metrics' | 'outcomes';

/** A failure in the SDK's background work, as passed to `onError`. */
export class SwitchyardError extends Error {
  override readonly name = 'SwitchyardError';

  /**
   * @param code - what went wrong (a closed set, see {@link SwitchyardErrorCode}).
   * @param operation - which background activity it happened in.
   * @param message - a human-readable description; do not match on it, match on `code`.
   * @param details - the HTTP status and the service's own error code when the service answered,
   *   and the underlying error.
   */
  constructor(
    readonly code: SwitchyardErrorCode,
    readonly operation: SwitchyardOperation,
    message: string,
    details: { readonly httpStatus?: number; readonly serviceCode?: string; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.httpStatus = details.httpStatus;
    this.serviceCode = details.serviceCode;
  }

  /** The HTTP status when the service answered with an error. */
  readonly httpStatus: number | undefined;

  /** The service's `extensions.errorCode` (or `code`) when its error body had one. */
  readonly serviceCode: string | undefined;
}

/**
 * True for the failures that retrying soon cannot fix (a bad token, a role without read access, a
 * wrong URL): they are retried only at the capped backoff rate. Not never: each can be fixed
 * outside the host (the token re-granted, a proxy route added), and is then picked up without a
 * restart.
 */
export function retriesAtCappedRate(error: SwitchyardError): boolean {
  return error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN' || error.code === 'WRONG_URL';
}

/** The message of whatever was thrown, for the text of a SwitchyardError. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
