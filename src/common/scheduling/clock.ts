/**
 * Time, injected: what the service reads as "now" and how it waits. Production uses the system's;
 * tests pass a clock they move by hand (test/utils/manual-clock.ts), so that schedules measured
 * in minutes run in milliseconds and nothing sleeps.
 */
export interface Clock {
  now(): Date;
  /** Calls `callback` once after `ms`; never keeps the process alive. Returns the cancel function. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
