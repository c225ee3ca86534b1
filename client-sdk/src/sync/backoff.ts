/**
 * Capped exponential backoff with full jitter (the AWS "full jitter" scheme, with a floor).
 *
 * The n-th consecutive failure (n = 1, 2, ...) waits a uniformly random time in
 * [initialMs, min(maxMs, initialMs * 2^n)]. Jitter spreads a fleet of SDKs that lost the same
 * instance at the same moment (a deploy ends every stream of an instance at once), so they do not
 * all reconnect in the same millisecond; even the first retry is spread over [initialMs,
 * 2 * initialMs]. The floor (instead of the textbook 0) guarantees that a run of unlucky draws
 * never retries, and never reports an error, faster than every `initialMs`.
 */

/** Backoff bounds in milliseconds. */
export interface BackoffOptions {
  /** The first retry delay, and the floor of every delay. */
  readonly initialMs: number;
  /** The cap: no delay is longer. */
  readonly maxMs: number;
}

/** Defaults: a first retry after 250 ms, never waiting more than 15 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 15_000 };

export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  /** @param random - a source of numbers in [0, 1); injectable so tests can check the bounds. */
  constructor(
    options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.maxMs = Math.max(1, options.maxMs);
    this.initialMs = Math.min(Math.max(1, options.initialMs), this.maxMs);
  }

  /** The delay after one more failure: jittered over [initialMs, min(maxMs, initialMs * 2^failures)], counting this one. */
  next(): number {
    this.failures++;
    // 2^30 is far past any cap; bounding the exponent keeps the arithmetic finite after days of failures.
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    return this.between(this.initialMs, ceiling);
  }

  /**
   * The delay after a failure that retrying soon cannot fix (401, 403): jittered over
   * [maxMs / 2, maxMs], so a revoked token costs the service one request per SDK every few seconds
   * at most, and the SDK still recovers by itself once the token is fixed. Later `next()` calls
   * continue from the cap.
   */
  capped(): number {
    this.failures = 31;
    return this.between(Math.max(this.initialMs, this.maxMs / 2), this.maxMs);
  }

  /** After a success: the next failure starts again from `initialMs`. */
  reset(): void {
    this.failures = 0;
  }

  private between(low: number, high: number): number {
    return Math.round(low + this.random() * (high - low));
  }
}
