/**
 * What each path did, per slice, since the last accepted usage report (docs/outcomes.md): calls,
 * failures and a latency histogram per path, comparison counts and a few mismatch samples.
 *
 * Memory is bounded whatever the host does: at most MAX_OUTCOME_SLICES slices (valid slice keys
 * only; others are not recorded), one dense histogram per slice allocated when the slice is first
 * seen (2 × 552 counters), at most MAX_SAMPLES_PER_SLICE samples per slice. Recording a call on a
 * slice already seen allocates nothing: a Map lookup, three increments and one logarithm.
 *
 * Reports take figures and settle them later: `take` copies what is there (sparse), `settle`
 * subtracts exactly what was taken once the service accepted (or refused for good) the report.
 * Whatever was recorded in between, or while the service was down, stays and goes with the next
 * report: the figures are always "since the last accepted report", never a queue.
 *
 * Which calls `route` times (docs/outcomes.md, "Which calls are timed"): two clock readings are
 * most of what measuring costs, so a busy path times a random sample of its calls. Every call is
 * counted (calls, failures) whatever happens. Of each path's first EXACT_CALLS_PER_REPORT calls
 * between two reports, every one is timed: a quiet slice keeps an exact histogram. Beyond those,
 * each call is timed with probability 1 / TIMED_ONE_IN, drawn before the call (so the choice cannot
 * depend on how the call goes), and a call not timed is counted in the bucket of the path's latest
 * timed call: the histogram still sums to the calls exactly, as the service requires, and each
 * timed duration stands for a random number of calls (geometric, mean TIMED_ONE_IN) whatever its
 * value, so that the histogram estimates the durations' distribution without bias.
 */
import { LATENCY_BUCKETS, LATENCY_SCHEME, latencyBucketOf, SLICE_KEY_PATTERN, sparseOf, type Path } from '../core/index.js';

/** Slices recorded at most: a host passing made-up keys must not grow memory. */
export const MAX_OUTCOME_SLICES = 1_000;
/** Mismatch samples kept per slice between two accepted reports. */
export const MAX_SAMPLES_PER_SLICE = 5;
/** Mismatch samples in one report (the rest wait for the next, still at most 5 per slice). */
export const MAX_SAMPLES_PER_REPORT = 20;
/** Calls of one path between two reports that `route` times every one of (see the module comment). */
export const EXACT_CALLS_PER_REPORT = 1_000;
/** Beyond those, `route` times one call in this many, at random. */
export const TIMED_ONE_IN = 16;
const LOG_NOT_TIMED = Math.log(1 - 1 / TIMED_ONE_IN);

/** One mismatch, as reported (docs/outcomes.md). */
export interface MismatchSample {
  /** When the comparison finished (RFC 3339). */
  readonly at: string;
  /** The path whose result the caller got. */
  readonly served: Path;
  /** 16 hex digits: SHA-256 of slice key, newline, stickiness value (outcomes/subject.ts). */
  readonly subject: string;
  /** JSON-path lines, LEGACY ≠ NEW, after the host's `redact`; at most 4,096 characters. */
  readonly diff: string;
}

/** One path's figures in a report. */
export interface PathOutcomeReport {
  readonly calls: number;
  readonly failures: number;
  readonly latency: { readonly scheme: string; readonly buckets: [number, number][] };
}

/** One slice's comparison figures in a report. */
export interface ComparisonReport {
  readonly compared: number;
  readonly mismatches: number;
  readonly otherFailures: number;
  readonly timeouts: number;
  readonly samples: MismatchSample[];
}

/** What a report carries: either member may be empty (then left out of the report). */
export interface OutcomeBatch {
  readonly outcomes: Record<string, { NEW?: PathOutcomeReport; LEGACY?: PathOutcomeReport }>;
  readonly comparisons: Record<string, ComparisonReport>;
  /** Handed back to `settle` once the report is accepted or refused for good. */
  readonly taken: readonly Taken[];
}

/** How a finished comparison came out. */
export type ComparisonResult = 'match' | 'mismatch' | 'otherFailure' | 'timeout';

const LEGACY_OFFSET = 0;
const NEW_OFFSET = LATENCY_BUCKETS;

/** Numbers in [0, 1): which calls are timed beyond the exact ones. */
type Random = () => number;

/**
 * One slice's figures: what `route` records its calls in (through {@link OutcomeRecorder.figuresFor}),
 * so that a call on a slice already seen costs no lookup beyond the recorder's memo.
 */
export class SliceFigures {
  /** LEGACY's buckets, then NEW's. Float64: exact to 2^53 calls however long the service is down. */
  readonly histogram = new Float64Array(2 * LATENCY_BUCKETS);
  legacyCalls = 0;
  legacyFailures = 0;
  newCalls = 0;
  newFailures = 0;
  compared = 0;
  mismatches = 0;
  otherFailures = 0;
  timeouts = 0;
  samples: MismatchSample[] = [];
  /** Per path: calls still timed every one before the next report is taken. */
  legacyExactLeft = EXACT_CALLS_PER_REPORT;
  newExactLeft = EXACT_CALLS_PER_REPORT;
  /** Per path, beyond those: calls until (and including) the next timed one. */
  legacyUntilTimed = 0;
  newUntilTimed = 0;
  /** Per path: the histogram index of the latest timed call, where calls not timed are counted; -1 before any. */
  legacyLastIndex = -1;
  newLastIndex = -1;

  constructor(private readonly random: Random) {}

  isEmpty(): boolean {
    return this.legacyCalls === 0 && this.newCalls === 0 && this.compared === 0 && this.otherFailures === 0 && this.timeouts === 0 && this.samples.length === 0;
  }

  /**
   * Whether the call of `path` about to start is timed (module comment). Asked once per call,
   * before it starts. Allocates nothing; draws a random number only for a timed call of a busy path.
   */
  timesNext(path: Path): boolean {
    if (path === 'NEW') {
      if (this.newExactLeft > 0 || this.newLastIndex < 0) {
        this.newExactLeft--;
        return true;
      }
      if (--this.newUntilTimed > 0) return false;
      this.newUntilTimed = this.untilNextTimed();
      return true;
    }
    if (this.legacyExactLeft > 0 || this.legacyLastIndex < 0) {
      this.legacyExactLeft--;
      return true;
    }
    if (--this.legacyUntilTimed > 0) return false;
    this.legacyUntilTimed = this.untilNextTimed();
    return true;
  }

  /** Geometric with p = 1 / TIMED_ONE_IN, at least 1: the gaps between the timed calls of a Bernoulli(p) draw per call. */
  private untilNextTimed(): number {
    const u = 1 - this.random(); // (0, 1]
    const gap = 1 + Math.floor(Math.log(u) / LOG_NOT_TIMED);
    return gap >= 1 && gap < 1e9 ? gap : 1; // a random() outside [0, 1) must not stop the timing
  }

  /** One call of `path` with its duration (milliseconds). */
  recordTimed(path: Path, ok: boolean, durationMs: number): void {
    if (path === 'NEW') {
      this.newCalls++;
      if (!ok) this.newFailures++;
      const index = NEW_OFFSET + latencyBucketOf(durationMs);
      this.newLastIndex = index;
      this.histogram[index]!++;
    } else {
      this.legacyCalls++;
      if (!ok) this.legacyFailures++;
      const index = LEGACY_OFFSET + latencyBucketOf(durationMs);
      this.legacyLastIndex = index;
      this.histogram[index]!++;
    }
  }

  /** One call of `path` that was not timed: counted, and its duration taken to be the path's latest timed one's. */
  recordUntimed(path: Path, ok: boolean): void {
    if (path === 'NEW') {
      this.newCalls++;
      if (!ok) this.newFailures++;
      this.histogram[this.newLastIndex < 0 ? NEW_OFFSET : this.newLastIndex]!++;
    } else {
      this.legacyCalls++;
      if (!ok) this.legacyFailures++;
      this.histogram[this.legacyLastIndex < 0 ? LEGACY_OFFSET : this.legacyLastIndex]!++;
    }
  }

  /** A report of this slice was taken: the next calls of both paths are timed every one again. */
  startReportInterval(): void {
    this.legacyExactLeft = EXACT_CALLS_PER_REPORT;
    this.newExactLeft = EXACT_CALLS_PER_REPORT;
  }
}

interface Taken {
  readonly key: string;
  readonly figures: SliceFigures;
  readonly legacy: PathOutcomeReport | undefined;
  readonly next: PathOutcomeReport | undefined;
  readonly comparison: ComparisonReport | undefined;
}

export class OutcomeRecorder {
  private readonly slices = new Map<string, SliceFigures>();
  /** The slice `figuresFor` found last (a host records on the same slice again and again): a compare instead of a Map probe. */
  private lastKey: string | undefined = undefined;
  private lastFigures: SliceFigures | undefined = undefined;

  /** @param random - draws which calls of a busy path are timed (module comment); `Math.random` unless a test fixes it. */
  constructor(private readonly random: Random = Math.random) {}

  /**
   * The figures of `slice`, created on first use; undefined for a key that cannot be a slice key, or
   * when full. Ask again for each call (not once for many): a slice left empty may be forgotten by `settle`.
   */
  figuresFor(slice: string): SliceFigures | undefined {
    if (slice === this.lastKey) return this.lastFigures;
    let figures = this.slices.get(slice);
    if (figures === undefined) {
      if (typeof slice !== 'string' || this.slices.size >= MAX_OUTCOME_SLICES || !SLICE_KEY_PATTERN.test(slice)) return undefined;
      figures = new SliceFigures(this.random);
      this.slices.set(slice, figures);
    }
    this.lastKey = slice;
    this.lastFigures = figures;
    return figures;
  }

  /** One call of `path` on `slice`: ok or failed, and how long it took (milliseconds). Always counted in the histogram as it is (no sampling). */
  record(slice: string, path: Path, ok: boolean, durationMs: number): void {
    this.figuresFor(slice)?.recordTimed(path, ok, durationMs);
  }

  /** One comparison on `slice` that ended as `result`. */
  recordComparison(slice: string, result: ComparisonResult): void {
    const figures = this.figuresFor(slice);
    if (figures === undefined) return;
    if (result === 'match') figures.compared++;
    else if (result === 'mismatch') {
      figures.compared++;
      figures.mismatches++;
    } else if (result === 'otherFailure') figures.otherFailures++;
    else figures.timeouts++;
  }

  /** True when a mismatch sample of `slice` would be kept: worth building its diff. */
  wantsSample(slice: string): boolean {
    const figures = this.slices.get(slice);
    return figures !== undefined && figures.samples.length < MAX_SAMPLES_PER_SLICE;
  }

  /** Keeps a mismatch sample, unless `slice` already holds MAX_SAMPLES_PER_SLICE. */
  addSample(slice: string, sample: MismatchSample): void {
    const figures = this.slices.get(slice);
    if (figures !== undefined && figures.samples.length < MAX_SAMPLES_PER_SLICE) figures.samples.push(sample);
  }

  /** How many slices are recorded (bounded by MAX_OUTCOME_SLICES). */
  get size(): number {
    return this.slices.size;
  }

  /**
   * The figures recorded so far for the slices `include` accepts (all, without it), as the report
   * carries them; nothing is reset until `settle`.
   */
  take(include?: (slice: string) => boolean): OutcomeBatch {
    // Null-prototype objects: the keys are valid slice keys anyway, but stay plain data.
    const outcomes = Object.create(null) as OutcomeBatch['outcomes'];
    const comparisons = Object.create(null) as OutcomeBatch['comparisons'];
    const taken: Taken[] = [];
    let samplesLeft = MAX_SAMPLES_PER_REPORT;
    for (const [key, figures] of this.slices) {
      if (include !== undefined && !include(key)) continue;
      figures.startReportInterval();
      if (figures.isEmpty()) continue;
      const legacy = pathReport(figures.legacyCalls, figures.legacyFailures, figures.histogram.subarray(LEGACY_OFFSET, LEGACY_OFFSET + LATENCY_BUCKETS));
      const next = pathReport(figures.newCalls, figures.newFailures, figures.histogram.subarray(NEW_OFFSET, NEW_OFFSET + LATENCY_BUCKETS));
      if (legacy !== undefined || next !== undefined) outcomes[key] = { ...(next === undefined ? {} : { NEW: next }), ...(legacy === undefined ? {} : { LEGACY: legacy }) };
      let comparison: ComparisonReport | undefined;
      const samples = figures.samples.slice(0, samplesLeft);
      if (figures.compared > 0 || figures.otherFailures > 0 || figures.timeouts > 0 || samples.length > 0) {
        samplesLeft -= samples.length;
        comparison = { compared: figures.compared, mismatches: figures.mismatches, otherFailures: figures.otherFailures, timeouts: figures.timeouts, samples };
        comparisons[key] = comparison;
      }
      taken.push({ key, figures, legacy, next, comparison });
    }
    return { outcomes, comparisons, taken };
  }

  /**
   * The report carrying `batch` was accepted (or refused for good): subtract exactly what it
   * carried; what was recorded since stays. When full, slices left with nothing are forgotten so
   * that new ones can be recorded.
   */
  settle(batch: OutcomeBatch): void {
    for (const { figures, legacy, next, comparison } of batch.taken) {
      if (legacy !== undefined) {
        figures.legacyCalls -= legacy.calls;
        figures.legacyFailures -= legacy.failures;
        for (const [bucket, count] of legacy.latency.buckets) figures.histogram[LEGACY_OFFSET + bucket]! -= count;
      }
      if (next !== undefined) {
        figures.newCalls -= next.calls;
        figures.newFailures -= next.failures;
        for (const [bucket, count] of next.latency.buckets) figures.histogram[NEW_OFFSET + bucket]! -= count;
      }
      if (comparison !== undefined) {
        figures.compared -= comparison.compared;
        figures.mismatches -= comparison.mismatches;
        figures.otherFailures -= comparison.otherFailures;
        figures.timeouts -= comparison.timeouts;
        if (comparison.samples.length > 0) figures.samples = figures.samples.filter((sample) => !comparison.samples.includes(sample));
      }
    }
    if (this.slices.size >= MAX_OUTCOME_SLICES) {
      for (const [key, figures] of this.slices) if (figures.isEmpty()) this.slices.delete(key);
      this.lastKey = undefined;
      this.lastFigures = undefined;
    }
  }
}

function pathReport(calls: number, failures: number, histogram: Float64Array): PathOutcomeReport | undefined {
  if (calls === 0) return undefined;
  return { calls, failures, latency: { scheme: LATENCY_SCHEME, buckets: sparseOf(histogram) } };
}
