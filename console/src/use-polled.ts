import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** An API error as one line for the page: its message and code. */
export function errorLine(e: unknown): string {
  return e instanceof ApiError ? `${e.message} (${e.errorCode ?? e.code})` : String(e);
}

export interface Polled<T> {
  /** The last answer (kept while a newer request is on its way); null before the first. */
  readonly data: T | null;
  /** The last failure as one line, cleared by the next answer. */
  readonly error: string | null;
  /** Asks again now (after a change made from the page). */
  readonly reload: () => void;
}

/**
 * `load()` now, again every `everyMs` while the component is shown, whenever a value of `deps`
 * changes (the revision the live feed announces, a key, a chosen window) and on `reload()`. An
 * answer that arrives after a newer request was started is dropped, so a slow answer never
 * overwrites a newer one. For what no stream carries (followers' reports, plan looks, freeze
 * windows turning on with time).
 */
export function usePolled<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  everyMs: number,
  options: { readonly describe?: (e: unknown) => string; readonly onLoaded?: (value: T) => void } = {},
): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
        options.onLoaded?.(value);
      },
      (e: unknown) => current && setError((options.describe ?? errorLine)(e)),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
