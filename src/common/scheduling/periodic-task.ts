import { type Clock, systemClock } from './clock.js';

/** When a periodic task runs, and what to do when it fails. */
export interface PeriodicTaskOptions {
  /** Delay before the first run (a service that just started has better things to do). */
  readonly firstAfterMs: number;
  /** Delay from the end of one run to the start of the next. */
  readonly everyMs: number;
  /** Told each failure; the task is tried again at its next turn. */
  readonly onError: (error: unknown) => void;
  /** Whose timers: the system's by default. */
  readonly clock?: Clock;
}

/**
 * Runs `task` in the background: after `firstAfterMs`, then `everyMs` after each run ends, so two
 * runs never overlap however slow the database is. Its timers do not keep the process alive.
 * Returns the function that stops it (a run in flight finishes; no further one starts).
 */
export function startPeriodicTask(task: () => Promise<unknown>, options: PeriodicTaskOptions): () => void {
  const clock = options.clock ?? systemClock;
  let stopped = false;
  let cancel: (() => void) | undefined;
  const schedule = (delayMs: number) => {
    cancel = clock.setTimer(run, delayMs);
  };
  const run = () => {
    // Through a promise, so that a task that throws before returning one is retried too.
    Promise.resolve()
      .then(task)
      .catch(options.onError)
      .finally(() => {
        if (!stopped) schedule(options.everyMs);
      });
  };
  schedule(options.firstAfterMs);
  return () => {
    stopped = true;
    cancel?.();
  };
}
