import type { Clock } from '../../src/common/scheduling/clock.js';

/**
 * A clock that moves only when told: `advance(ms)` runs every timer that falls due, in order, and
 * lets the promise jobs they start run before the next one. Time-dependent code takes it instead
 * of the system clock, so a test covers minutes in milliseconds without sleeping.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 0;

  constructor(start: Date = new Date('2026-11-24T03:00:00.000Z')) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(callback: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), callback });
    return () => this.timers.delete(id);
  }

  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.current = due[1].at;
      due[1].callback();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = end;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }
}

/**
 * The middle of the current minute, for a ManualClock under tests that report traffic right after a
 * plan's step starts: the service places a report at the middle of the time it covers (an SDK's 10 s
 * interval: 5 s before it is received) and a step's evidence starts at the minute the step started, so
 * a clock within the first seconds of a minute would put the test's first report in the minute before
 * the step, outside its evidence (the plans specs failed whenever they started at :00 to :05).
 */
export function midMinute(now: number = Date.now()): Date {
  return new Date(Math.floor(now / 60_000) * 60_000 + 30_000);
}
