/**
 * A clock for the SDK's tests that moves only when told (ports/clock.ts): `advance(ms)` runs every
 * timer that falls due, in order, letting the promise jobs and I/O callbacks each one starts run
 * before the next. A backoff of 15 s or a report interval of a minute is then checked exactly and
 * at once, instead of slept through with slack. Not part of the SDK build.
 *
 * What it cannot move: real I/O. A timer that starts a request only starts it; the test then waits
 * for the peer to see it (waitFor), as it would without the clock.
 */
import type { Clock } from '../ports/clock.js';

interface Timer {
  readonly at: number;
  readonly ms: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 0;
  /** Every delay asked for through setTimer, in order (cancelled ones included). */
  readonly requested: number[] = [];

  constructor(start: Date = new Date('2026-11-24T03:00:00.000Z')) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(callback: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.requested.push(ms);
    this.timers.set(id, { at: this.current + Math.max(0, ms), ms, callback });
    return () => this.timers.delete(id);
  }

  /** Moves time forward by `ms`, running the timers that fall due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.current = due[1].at;
      due[1].callback();
      // Lets what the callback started (promise jobs, a request's first steps) run before the next timer.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = end;
  }

  /** The waiting timers' remaining delays from now, soonest first. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.current).sort((a, b) => a - b);
  }

  /** The delays the waiting timers were set with, soonest due first. */
  pendingRequested(): number[] {
    return [...this.timers.values()].sort((a, b) => a.at - b.at).map((t) => t.ms);
  }
}
