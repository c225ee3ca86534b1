/**
 * Time, injected: what the client reads as "now" and how it schedules what comes later (the next
 * poll, the wait before reconnecting, the next usage report, folding a delta, the start-up wait).
 * Hosts always get the system's; the SDK's tests pass a clock they move by hand
 * (testing/manual-clock.ts), so that backoff and report schedules measured in seconds are checked
 * exactly, without sleeping.
 *
 * What does not go through it, on purpose: the deadlines that bound real I/O (the silence watchdog
 * of a request or stream, a usage report's request timeout, `close()`'s wait for the last report).
 * They measure how long a socket has been quiet, which only real time can say; a test clock that
 * never moved would let a hung request hang forever.
 */
export interface Clock {
  /** The current time. */
  now(): Date;
  /**
   * Calls `callback` once, `ms` from now. Returns the function that cancels it (harmless once it
   * ran). The timer does not keep the host process alive, unless `keepAlive` says it must (the
   * one bounded wait a host awaits at start-up: see createClient).
   */
  setTimer(callback: () => void, ms: number, options?: { readonly keepAlive?: boolean }): () => void;
}

/** The system's clock: `Date` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimer: (callback, ms, options) => {
    const timer = setTimeout(callback, ms);
    // A forgotten client must not keep the host process alive.
    if (options?.keepAlive !== true) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Numbers in [0, 1) for jitter (backoff, poll and report spread); `Math.random` unless a test fixes it. */
export type Random = () => number;

/**
 * A monotonic clock in milliseconds (fractions allowed): what outcome durations are measured with
 * (`route`, `compare`). Only differences between two readings mean anything. Hosts get
 * `performance.now()`; tests pass a counter they move themselves, so a handler "takes" exactly the
 * time the test says. Separate from {@link Clock}: wall time may step, and a `Date` per reading
 * would allocate on every measured call.
 */
export type Monotonic = () => number;

/** `performance.now()`: monotonic, sub-millisecond, a plain number. */
export const systemMonotonic: Monotonic = () => performance.now();
