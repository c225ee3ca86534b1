/** The second attempt's delay; each later one doubles, up to MAX_DELAY_MS. */
const FIRST_BACKOFF_MS = 100;
/**
 * The longest wait between attempts. Short, because it is also how late the first change after an
 * outage can reach this instance's streams (one connection attempt per instance this often is
 * nothing to the database).
 */
const MAX_DELAY_MS = 2_000;

/**
 * When to try reconnecting after a connection is lost: at once the first time (a connection that
 * worked and broke is most often replaced at the first try: a restarted server, a recycled
 * proxy), then 100 ms, 200 ms, ... up to MAX_DELAY_MS while attempts keep failing. Back to "at
 * once" only after a connection proved healthy, so a connection that breaks as soon as it is made
 * does not turn into a tight loop.
 */
export class ReconnectSchedule {
  private failures = 0;

  /** A connection was made and proved healthy: the next loss is retried at once. */
  healthy(): void {
    this.failures = 0;
  }

  /** The delay before the next attempt, counting this loss or failed attempt. */
  nextDelayMs(): number {
    const n = this.failures++;
    return n === 0 ? 0 : Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(n - 1, 30), MAX_DELAY_MS);
  }
}
