/**
 * Runs the path a decision chose and measures it (`route`), and on a sample of calls also runs the
 * other path and compares the two results (`compare`): docs/outcomes.md, "What counts as a failure"
 * and "Shadow comparison".
 *
 * What it promises the host:
 *  - the handler's result, or its exception, reaches the caller unchanged: the very value, the very
 *    promise object, the very error. A promise is observed on a side branch (`then` with both
 *    callbacks, which never throw), so observing it can never cause an unhandled rejection. (The
 *    side branch does count as a handler: a rejection the host leaves unhandled is no longer
 *    reported by Node as unhandled.)
 *  - measuring never throws into the host: a classifier, `normalize`, `equal` or `redact` that
 *    throws is told to `onError` (HOOK_FAILED, at most once a minute per hook), never to the caller;
 *  - on the common path (a synchronous handler, a slice already seen) the SDK allocates nothing:
 *    a pointer compare to find the slice's figures, a few increments, and for a timed call two
 *    readings of the monotonic clock and one logarithm (outcome-recorder.ts). The clock readings
 *    cost about 50 ns each under kvm-clock, more than everything else together: so every call of a
 *    quiet path is timed, and of a busy one a random sample (outcome-recorder.ts, docs/outcomes.md).
 *    (`performance.now()` itself returns a boxed number in Node 20: the young-generation GCs
 *    `npm run bench:sdk` shows for `route` are the clock's, as for `performance.now()` alone.)
 *  - the path not served runs off the caller's critical path: after the served one returned (a
 *    microtask later), concurrently with a served promise; its failure or timeout is counted,
 *    never thrown; its own outcome is not recorded (it served no one).
 *
 * Only native promises (`instanceof Promise`) are followed to their settlement. Another thenable
 * is not subscribed to (calling `then` on a lazy query object may run the query again): it counts
 * as a successful call that lasted until it was returned, and is never compared.
 */
import type { Path } from '../core/index.js';
import { describeError, SwitchyardError } from '../errors.js';
import type { Clock, Monotonic } from '../ports/clock.js';
import type { OutcomeRecorder, SliceFigures } from './outcome-recorder.js';
import { structuralDiff, structuralEqual } from './structural-diff.js';
import { subjectOf } from './subject.js';

/** The two implementations `route` chooses between. */
export interface RouteHandlers<T> {
  /** The legacy path: called for LEGACY, and whenever no configuration is known. */
  readonly legacy: () => T;
  /** The new path: called for NEW. */
  readonly next: () => T;
}

/** Says whether a handler's result is a failure (an HTTP 5xx, a `{ ok: false }`). For a promise, it gets the fulfilled value. */
export type FailureClassifier<T = unknown> = (result: Awaited<T>) => boolean;

/** The options of one `route` call. */
export interface RouteOptions<T> {
  /** Overrides the client's `isFailure` for this call. */
  readonly isFailure?: FailureClassifier<T>;
}

/**
 * What the diff of a mismatch sample is built from: the host's `redact` gets each result (after
 * `normalize`) and the path that produced it, and returns what may leave the process in its place
 * (e.g. the object with `iban` and `name` masked). Only what it returns is diffed and sent; the
 * mismatch itself was already decided on the unredacted values. Without a `redact`, the diff shows
 * the differing values as they are.
 */
export type Redactor = (result: unknown, path: Path) => unknown;

/** `compare`'s handlers and options (docs/outcomes.md, "Shadow comparison"). */
export interface CompareHandlers<T, N = Awaited<T>> extends RouteHandlers<T>, RouteOptions<T> {
  /** Applied to both results before they are compared (drop timestamps and generated ids, sort lists). */
  readonly normalize?: (result: Awaited<T>) => N;
  /** Whether the two (normalized) results agree; default: structural equality (outcomes/structural-diff.ts). */
  readonly equal?: (legacy: N, next: N) => boolean;
  /** How long the path not served may take, in milliseconds (default 1000); later, it counts as a timeout. */
  readonly timeoutMs?: number;
  /** Overrides the client's `redact` for this call. */
  readonly redact?: Redactor;
}

/** The diff of a mismatch whose (redacted) results show no structural difference. */
export const NOTHING_TO_SHOW = '(no structural difference to show: masked by redact, or judged by the host equal())';
/** The default of `timeoutMs`. */
export const DEFAULT_COMPARE_TIMEOUT_MS = 1_000;
/** A throwing hook is told to onError at most this often (per hook). */
const HOOK_REPORT_INTERVAL_MS = 60_000;

export interface PathRunnerOptions {
  /** False when nothing would ever be reported (`metrics: false`): handlers are then only called, never measured or compared. */
  readonly enabled: boolean;
  readonly recorder: OutcomeRecorder;
  readonly monotonic: Monotonic;
  /** Timeouts of the path not served, and the time of samples. */
  readonly clock: Clock;
  /** The client's `isFailure`, for calls that pass none. */
  readonly isFailure: FailureClassifier | undefined;
  /** The client's `redact`, for calls that pass none. */
  readonly redact: Redactor | undefined;
  readonly report: (error: SwitchyardError) => void;
}

type Other<T> = { readonly value: T } | 'failure' | 'timeout';

/** `start` of a call that is not timed (tested with Number.isNaN: a clock reading NaN could not time a call anyway). */
const UNTIMED = NaN;

export class PathRunner {
  private readonly recorder: OutcomeRecorder;
  private readonly monotonic: Monotonic;
  /** When each hook's failure was last told (epoch ms). */
  private readonly hookReportedAt = new Map<string, number>();

  constructor(private readonly options: PathRunnerOptions) {
    this.recorder = options.recorder;
    this.monotonic = options.monotonic;
  }

  /** Calls the handler of `path`, measures it, returns what it returned (or throws what it threw). */
  route<T>(slice: string, path: Path, handlers: RouteHandlers<T>, isFailure: FailureClassifier<T> | undefined): T {
    if (!this.options.enabled) return path === 'NEW' ? handlers.next() : handlers.legacy();
    // Decided before the call, so that whether it is timed cannot depend on how it goes. A slice
    // that cannot be recorded (not a slice key, or the recorder full) is only called.
    let start = UNTIMED;
    let figures: SliceFigures | undefined;
    try {
      figures = this.recorder.figuresFor(slice);
      if (figures !== undefined && figures.timesNext(path)) start = this.monotonic();
    } catch (error) {
      this.internal(error);
    }
    let result: T;
    try {
      result = path === 'NEW' ? handlers.next() : handlers.legacy();
    } catch (error) {
      if (figures !== undefined) this.finish(slice, path, false, start);
      throw error;
    }
    if (figures === undefined) return result;
    try {
      if (result instanceof Promise) void this.follow(slice, path, result, isFailure, start);
      else this.finish(slice, path, isFailure === undefined || this.succeeded(isFailure, result as Awaited<T>), start);
    } catch (error) {
      this.internal(error);
    }
    return result;
  }

  /**
   * Records one call, timed when `start` is a clock reading (else counted in the path's latest
   * timed bucket): never throws. Finds the figures again (the recorder's memo makes it a compare):
   * a promise may settle after `settle` forgot a slice that was empty.
   */
  private finish(slice: string, path: Path, ok: boolean, start: number): void {
    try {
      const figures = this.recorder.figuresFor(slice);
      if (figures === undefined) return;
      if (Number.isNaN(start)) figures.recordUntimed(path, ok);
      else figures.recordTimed(path, ok, this.monotonic() - start);
    } catch (error) {
      this.internal(error);
    }
  }

  /** Records the call when `promise` settles, on a side branch that never rejects. Resolves to whether it succeeded (and its value). */
  private follow<T>(
    slice: string,
    path: Path,
    promise: Promise<Awaited<T>>,
    isFailure: FailureClassifier<T> | undefined,
    start: number,
  ): Promise<{ value: Awaited<T> } | undefined> {
    return promise.then(
      (value) => {
        const ok = isFailure === undefined || this.succeeded(isFailure, value);
        this.finish(slice, path, ok, start);
        return ok ? { value } : undefined;
      },
      () => {
        this.finish(slice, path, false, start);
        return undefined;
      },
    );
  }

  /** False when the classifier says the result is a failure; a throwing classifier counts as a success. */
  private succeeded<T>(isFailure: FailureClassifier<T>, result: Awaited<T>): boolean {
    try {
      return isFailure(result) !== true;
    } catch (error) {
      this.hookFailed('isFailure', error, 'the call counts as a success');
      return true;
    }
  }

  /**
   * `route`, and when `sampled`, the other path too, compared off the caller's path.
   * @param subject - the subject's stickiness value (for the sample's hashed subject).
   */
  compare<T, N>(slice: string, path: Path, spec: CompareHandlers<T, N>, sampled: boolean, subject: string | undefined): T {
    const isFailure = spec.isFailure ?? this.options.isFailure;
    if (!sampled || !this.options.enabled) return this.route(slice, path, spec, isFailure);
    const start = this.monotonic();
    let served: T;
    try {
      served = path === 'NEW' ? spec.next() : spec.legacy();
    } catch (error) {
      this.finish(slice, path, false, start);
      throw error;
    }
    try {
      let outcome: Promise<{ value: Awaited<T> } | undefined> | { value: Awaited<T> } | undefined;
      if (served instanceof Promise) outcome = this.follow(slice, path, served, isFailure, start);
      else {
        const ok = isFailure === undefined || this.succeeded(isFailure, served as Awaited<T>);
        this.finish(slice, path, ok, start);
        outcome = ok ? { value: served as Awaited<T> } : undefined;
      }
      // A served path that failed (synchronously) is not compared: the other path does not run.
      if (outcome !== undefined) void this.shadow(slice, path, spec, outcome, subject);
    } catch (error) {
      this.internal(error);
    }
    return served;
  }

  /** Runs the path not served and compares. Never rejects. */
  private async shadow<T, N>(
    slice: string,
    served: Path,
    spec: CompareHandlers<T, N>,
    outcome: Promise<{ value: Awaited<T> } | undefined> | { value: Awaited<T> },
    subject: string | undefined,
  ): Promise<void> {
    try {
      await Promise.resolve(); // off the caller's synchronous path: the caller has its result first
      const other = this.runOther(spec, served === 'NEW' ? 'LEGACY' : 'NEW', timeoutOf(spec.timeoutMs));
      const servedResult = await outcome;
      const otherResult = await other;
      if (servedResult === undefined) return; // the served path failed: nothing is compared
      if (otherResult === 'failure' || otherResult === 'timeout') {
        this.recorder.recordComparison(slice, otherResult === 'failure' ? 'otherFailure' : 'timeout');
        return;
      }
      this.judge(slice, served, spec, served === 'LEGACY' ? servedResult.value : otherResult.value, served === 'LEGACY' ? otherResult.value : servedResult.value, subject);
    } catch (error) {
      this.internal(error);
    }
  }

  /** Calls the path not served; resolves to its value, 'failure' (threw, rejected) or 'timeout'. Never rejects. */
  private runOther<T>(spec: RouteHandlers<T>, path: Path, timeoutMs: number): Promise<Other<Awaited<T>>> {
    const start = this.monotonic();
    let result: T;
    try {
      result = path === 'NEW' ? spec.next() : spec.legacy();
    } catch {
      return Promise.resolve('failure');
    }
    if (!(result instanceof Promise)) {
      // It cannot be interrupted; it still did not settle within the time allowed.
      return Promise.resolve(this.monotonic() - start > timeoutMs ? 'timeout' : { value: result as Awaited<T> });
    }
    const promise = result as Promise<Awaited<T>>;
    return new Promise((resolve) => {
      const cancel = this.options.clock.setTimer(() => resolve('timeout'), timeoutMs);
      promise.then(
        (value) => {
          cancel();
          resolve({ value });
        },
        () => {
          cancel();
          resolve('failure');
        },
      );
    });
  }

  /** Compares the two results, counts, and keeps a sample of a mismatch. */
  private judge<T, N>(slice: string, served: Path, spec: CompareHandlers<T, N>, legacy: Awaited<T>, next: Awaited<T>, subject: string | undefined): void {
    let a: N;
    let b: N;
    try {
      a = spec.normalize === undefined ? (legacy as unknown as N) : spec.normalize(legacy);
      b = spec.normalize === undefined ? (next as unknown as N) : spec.normalize(next);
    } catch (error) {
      this.hookFailed('normalize', error, 'the comparison is not counted');
      return;
    }
    let same: boolean;
    try {
      same = spec.equal === undefined ? structuralEqual(a, b) : spec.equal(a, b) === true;
    } catch (error) {
      this.hookFailed('equal', error, 'the comparison is not counted');
      return;
    }
    this.recorder.recordComparison(slice, same ? 'match' : 'mismatch');
    if (same || !this.recorder.wantsSample(slice)) return;
    const redact = spec.redact ?? this.options.redact;
    let diff: string;
    try {
      diff = redact === undefined ? structuralDiff(a, b) : structuralDiff(redact(a, 'LEGACY'), redact(b, 'NEW'));
    } catch (error) {
      this.hookFailed('redact', error, 'the mismatch sample is not kept');
      return;
    }
    if (diff === '') diff = NOTHING_TO_SHOW;
    this.recorder.addSample(slice, { at: this.options.clock.now().toISOString(), served, subject: subjectOf(slice, subject), diff });
  }

  private hookFailed(hook: string, error: unknown, consequence: string): void {
    const now = this.options.clock.now().getTime();
    const last = this.hookReportedAt.get(hook);
    if (last !== undefined && now - last < HOOK_REPORT_INTERVAL_MS) return;
    this.hookReportedAt.set(hook, now);
    this.options.report(new SwitchyardError('HOOK_FAILED', 'outcomes', `the ${hook} hook threw (${consequence}): ${describeError(error)}`, { cause: error }));
  }

  private internal(error: unknown): void {
    try {
      this.options.report(new SwitchyardError('INTERNAL_ERROR', 'outcomes', `measuring a path failed: ${describeError(error)}`, { cause: error }));
    } catch {
      // The client's report swallows handler failures already.
    }
  }
}

function timeoutOf(value: number | undefined): number {
  return typeof value === 'number' && value > 0 && value <= 2 ** 31 - 1 ? value : DEFAULT_COMPARE_TIMEOUT_MS;
}
