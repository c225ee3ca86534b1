/**
 * The body of `POST /sdk/v1/metrics` (client-sdk/PROTOCOL.md, "Usage reports"): what one SDK
 * instance decided since its last accepted report, the revision it holds, and when it last synced.
 *
 * Pure: no Nest, no I/O. Validation is all-or-nothing: a report with any violation is refused as a
 * whole (400 INVALID_INPUT naming every offending field), so nothing of it is counted. Unknown
 * fields are ignored, so that newer SDKs can add some without breaking older services. Whether the
 * counts are plausible is the next check (plausible-counts.ts), on a report of the right shape.
 */
import { isLatencyBucket, isRfc3339, LATENCY_SCHEME, SEGMENT_KEY_PATTERN, SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import type { FieldViolation } from '../common/errors/switchyard.exception.js';

/** The SDK families whose instances the service tracks (GraphQL `SdkProtocol`). */
export type TrafficProtocol = 'SWITCHYARD' | 'UNLEASH';

/** Decisions on each path. Non-negative safe integers. */
export interface PathCounts {
  readonly NEW: number;
  readonly LEGACY: number;
}

/** What one path did for a slice since the last report (docs/outcomes.md, "The report"). */
export interface PathOutcomeReport {
  readonly calls: number;
  /** At most `calls`. */
  readonly failures: number;
  /** log2pct-v1 `[bucket, count]` pairs, buckets strictly increasing, counts positive, summing to `calls`. */
  readonly latency: readonly (readonly [number, number])[];
}

/** Per path present (either may be left out). */
export type SliceOutcomeReport = Readonly<Partial<Record<'NEW' | 'LEGACY', PathOutcomeReport>>>;

/** One mismatch a shadow comparison found, as the SDK sends it (after the host's `redact`). */
export interface MismatchSampleReport {
  /** When, by the SDK's clock: the RFC 3339 text as sent, kept exactly (the host's clock may be any year). */
  readonly at: string;
  readonly served: 'NEW' | 'LEGACY';
  /** 16 lowercase hex digits: a hash of the subject, never the identifier. */
  readonly subject: string;
  readonly diff: string;
}

/** Shadow comparisons of a slice since the last report. */
export interface ComparisonReport {
  readonly compared: number;
  /** At most `compared`. */
  readonly mismatches: number;
  readonly otherFailures: number;
  readonly timeouts: number;
  readonly samples: readonly MismatchSampleReport[];
}

/** Segment coverage of a slice since the last report: sampled decisions, and per segment the slice names, how many were in it. */
export interface SliceCoverageReport {
  readonly sampled: number;
  /** Segment key to decisions in it, each at most `sampled`. */
  readonly segments: ReadonlyMap<string, number>;
}

export interface SdkReport {
  readonly appName: string;
  readonly instanceId: string;
  readonly sdkName: string | null;
  readonly sdkVersion: string | null;
  /** The configuration revision the instance decides with; null when it has none. */
  readonly revision: number | null;
  /** When it last received (or confirmed) configuration from the service, by its clock; null if never. */
  readonly syncedAt: number | null;
  /** Epoch milliseconds, by the instance's clock. */
  readonly start: number;
  readonly stop: number;
  /** Slice key to counts; keys are valid slice keys, each slice at most once. */
  readonly slices: ReadonlyMap<string, PathCounts>;
  /** `"final": true`: the instance is closing and says goodbye; nothing more will come from it. */
  readonly final: boolean;
  /** How often it reports (its SDK's `metricsIntervalMs`), when it says; null otherwise. */
  readonly metricsIntervalMs: number | null;
  /** Outcomes per slice and path (docs/outcomes.md); empty when the report has none. */
  readonly outcomes: ReadonlyMap<string, SliceOutcomeReport>;
  /** Shadow comparisons per slice; empty when the report has none. */
  readonly comparisons: ReadonlyMap<string, ComparisonReport>;
  /** Segment coverage per slice (docs/segment-rollback.md, "Coverage"); empty when the report has none. */
  readonly segmentCoverage: ReadonlyMap<string, SliceCoverageReport>;
}

export type ParsedReport = { readonly ok: true; readonly value: SdkReport } | { readonly ok: false; readonly violations: readonly FieldViolation[] };

/** Slices per report: the SDK counts at most 10,000 distinct slice keys (client.ts MAX_COUNTED_SLICES). */
export const MAX_REPORT_SLICES = 10_000;
/** App names and instance ids (as the Unleash client API accepts them). */
export const MAX_NAME_LENGTH = 256;
/** SDK name and version. */
export const MAX_SDK_FIELD_LENGTH = 128;
/** Slices in `outcomes`, and in `comparisons`, per report (docs/outcomes.md). */
export const MAX_OUTCOME_SLICES = 1_000;
/** Segments per slice in `segmentCoverage` (the SDK's MAX_COVERAGE_SEGMENTS). */
export const MAX_COVERAGE_SEGMENTS = 64;
/** Mismatch samples per slice, and per report. */
export const MAX_SAMPLES_PER_SLICE = 5;
export const MAX_SAMPLES_PER_REPORT = 20;
/** A sample's diff, in characters (code points; the UTF-16 length may be up to twice that). */
export const MAX_DIFF_LENGTH = 4_096;
const SUBJECT = /^[0-9a-f]{16}$/;
/** At most this many violations are listed: a report with 10,000 bad entries gets a readable error. */
const MAX_VIOLATIONS = 20;

/** Control characters would end up in logs and terminals (the CLI prints app names). */
// eslint-disable-next-line no-control-regex -- matching control characters is its purpose
const CONTROL = /[\x00-\x1f\x7f]/;

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A count as the protocol allows it: an integer from 0 to 2^53 - 1. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A name (app, instance, SDK): non-blank, bounded, no control characters, stored exactly as sent.
 * A body with an unpaired surrogate is refused before it gets here (common/validation/storable-text.ts);
 * names from headers cannot hold one, but the rule is kept here too since names also arrive by
 * other paths: written as U+FFFD, two different ids would become one row.
 */
export function isName(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= maxLength && !CONTROL.test(value) && value.isWellFormed();
}

class Violations {
  readonly list: FieldViolation[] = [];
  add(field: string, message: string): void {
    if (this.list.length < MAX_VIOLATIONS) this.list.push({ field, message });
  }
}

function instant(v: Violations, field: string, value: unknown): number | null {
  if (typeof value !== 'string' || !isRfc3339(value)) {
    v.add(field, 'must be an RFC 3339 date-time, e.g. 2026-01-01T12:00:00.000Z');
    return null;
  }
  return Date.parse(value);
}

function name(v: Violations, body: Json, field: string): string {
  const value = body[field];
  if (!isName(value, MAX_NAME_LENGTH)) {
    v.add(field, `must be a non-empty string of at most ${MAX_NAME_LENGTH} characters, without control characters or unpaired surrogates`);
    return '';
  }
  return value;
}

function optionalSdkField(v: Violations, body: Json, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (!isName(value, MAX_SDK_FIELD_LENGTH)) {
    v.add(field, `must be null or a non-empty string of at most ${MAX_SDK_FIELD_LENGTH} characters, without control characters or unpaired surrogates`);
    return null;
  }
  return value;
}

export function parseSdkReport(body: unknown): ParsedReport {
  if (!isObject(body)) return { ok: false, violations: [{ field: 'body', message: 'must be a JSON object' }] };
  const v = new Violations();
  const appName = name(v, body, 'appName');
  const instanceId = name(v, body, 'instanceId');
  const sdkName = optionalSdkField(v, body, 'sdkName');
  const sdkVersion = optionalSdkField(v, body, 'sdkVersion');

  let revision: number | null = null;
  if (body.revision !== undefined && body.revision !== null) {
    if (isCount(body.revision)) revision = body.revision;
    else v.add('revision', 'must be null or a non-negative integer');
  }
  const syncedAt = body.syncedAt === undefined || body.syncedAt === null ? null : instant(v, 'syncedAt', body.syncedAt);
  let final = false;
  if (body.final !== undefined && body.final !== null) {
    if (typeof body.final === 'boolean') final = body.final;
    else v.add('final', 'must be true, false or absent');
  }
  let metricsIntervalMs: number | null = null;
  if (body.metricsIntervalMs !== undefined && body.metricsIntervalMs !== null) {
    if (isCount(body.metricsIntervalMs) && body.metricsIntervalMs > 0) metricsIntervalMs = body.metricsIntervalMs;
    else v.add('metricsIntervalMs', 'must be a positive integer (milliseconds) or absent');
  }

  const slices = new Map<string, PathCounts>();
  let start = 0;
  let stop = 0;
  const bucket = body.bucket;
  if (!isObject(bucket)) {
    v.add('bucket', 'must be an object with start, stop and slices');
  } else {
    const from = instant(v, 'bucket.start', bucket.start);
    const to = instant(v, 'bucket.stop', bucket.stop);
    if (from !== null && to !== null && from > to) v.add('bucket.stop', 'must not be before bucket.start');
    start = from ?? 0;
    stop = to ?? 0;
    if (!isObject(bucket.slices)) {
      v.add('bucket.slices', 'must be an object keyed by slice key');
    } else {
      // Object.keys, not for-in: own properties only, and JSON.parse makes "__proto__" an own one.
      const keys = Object.keys(bucket.slices);
      if (keys.length > MAX_REPORT_SLICES) {
        v.add('bucket.slices', `at most ${MAX_REPORT_SLICES} slices per report`);
      } else {
        for (const key of keys) {
          const field = `bucket.slices[${JSON.stringify(key)}]`;
          if (!SLICE_KEY_PATTERN.test(key)) {
            v.add(field, 'is not a slice key (lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -)');
            continue;
          }
          const counts = bucket.slices[key];
          if (!isObject(counts) || !isCount(counts.NEW) || !isCount(counts.LEGACY)) {
            v.add(field, 'must be { "NEW": n, "LEGACY": n } with non-negative integer counts');
            continue;
          }
          slices.set(key, { NEW: counts.NEW, LEGACY: counts.LEGACY });
        }
      }
    }
  }
  const outcomes = outcomesOf(v, body);
  const comparisons = parseComparisons(v, body.comparisons);
  const segmentCoverage = parseSegmentCoverage(v, body.segmentCoverage);
  if (v.list.length > 0) return { ok: false, violations: v.list };
  return {
    ok: true,
    value: { appName, instanceId, sdkName, sdkVersion, revision, syncedAt, start, stop, slices, final, metricsIntervalMs, outcomes, comparisons, segmentCoverage },
  };
}

/** The keys of an optional member keyed by slice key (absent or null: none), or null after a violation. */
function sliceKeyed(v: Violations, value: unknown, field: string): string[] | null {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) {
    v.add(field, 'must be an object keyed by slice key');
    return null;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_OUTCOME_SLICES) {
    v.add(field, `at most ${MAX_OUTCOME_SLICES} slices per report`);
    return null;
  }
  return keys.filter((key) => {
    if (SLICE_KEY_PATTERN.test(key)) return true;
    v.add(`${field}[${JSON.stringify(key)}]`, 'is not a slice key (lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -)');
    return false;
  });
}

/**
 * The report's outcomes, from whichever member carries them: `outcomes` (every SDK) or
 * `compactOutcomes` (an SDK that was told this service reads it: docs/outcomes.md, "The compact
 * form"). Both are held to the same rules and give the same figures; a report with both is refused.
 */
function outcomesOf(v: Violations, body: Json): Map<string, SliceOutcomeReport> {
  const compact = body.compactOutcomes;
  if (compact === undefined || compact === null) return parseOutcomes(v, body.outcomes);
  if (body.outcomes !== undefined && body.outcomes !== null) {
    v.add('compactOutcomes', 'must not come with outcomes: send one or the other');
    return new Map();
  }
  return parseCompactOutcomes(v, compact);
}

/** The compact form's versions this service reads (the `switchyard-compact-outcomes` response header). */
export const COMPACT_OUTCOMES_FORMATS: readonly number[] = [1];

const COMPACT_PATH_SHAPE = 'must be 0 (no calls) or [failures, first bucket, count or -gap, ...]: see docs/outcomes.md, "The compact form"';

/**
 * `compactOutcomes` (docs/outcomes.md, "The compact form"): `{ "format": 1, "scheme": "log2pct-v1",
 * "slices": [[sliceKey, NEW, LEGACY], ...] }`, each path `0` or `[failures, firstBucket, ...]`
 * where a positive integer is the count of the current bucket (then the next bucket is current)
 * and a negative one skips that many buckets. `calls` is the sum of the counts. Each histogram has
 * exactly one encoding (no zero count, no gap first, last or twice in a row), so the rules are those
 * of `outcomes`: the same figures, the same bounds.
 */
function parseCompactOutcomes(v: Violations, value: unknown): Map<string, SliceOutcomeReport> {
  const out = new Map<string, SliceOutcomeReport>();
  if (!isObject(value)) {
    v.add('compactOutcomes', 'must be { "format": 1, "scheme": "log2pct-v1", "slices": [[sliceKey, NEW, LEGACY], ...] }');
    return out;
  }
  if (typeof value.format !== 'number' || !COMPACT_OUTCOMES_FORMATS.includes(value.format)) {
    v.add('compactOutcomes.format', `must be one of ${COMPACT_OUTCOMES_FORMATS.join(', ')}`);
    return out;
  }
  if (value.scheme !== LATENCY_SCHEME) {
    v.add('compactOutcomes.scheme', `must be "${LATENCY_SCHEME}"`);
    return out;
  }
  const slices = value.slices;
  if (!Array.isArray(slices) || slices.length > MAX_OUTCOME_SLICES) {
    v.add('compactOutcomes.slices', `must be an array of at most ${MAX_OUTCOME_SLICES} [sliceKey, NEW, LEGACY] entries`);
    return out;
  }
  for (let i = 0; i < slices.length; i++) {
    const entry: unknown = slices[i];
    if (!Array.isArray(entry) || entry.length !== 3) {
      v.add(`compactOutcomes.slices[${i}]`, 'must be [sliceKey, NEW, LEGACY]');
      continue;
    }
    const key: unknown = entry[0];
    if (typeof key !== 'string' || !SLICE_KEY_PATTERN.test(key)) {
      v.add(`compactOutcomes.slices[${i}][0]`, 'is not a slice key (lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -)');
      continue;
    }
    if (out.has(key)) {
      v.add(`compactOutcomes.slices[${i}][0]`, 'names a slice already given: each slice at most once');
      continue;
    }
    const next = parseCompactPath(v, entry[1], i, 1);
    const legacy = parseCompactPath(v, entry[2], i, 2);
    const slice: { NEW?: PathOutcomeReport; LEGACY?: PathOutcomeReport } = {};
    if (next !== undefined && next !== null) slice.NEW = next;
    if (legacy !== undefined && legacy !== null) slice.LEGACY = legacy;
    out.set(key, slice);
  }
  return out;
}

/** One path of the compact form: undefined for 0 (no calls), null after a violation. */
function parseCompactPath(v: Violations, value: unknown, i: number, at: 1 | 2): PathOutcomeReport | null | undefined {
  if (value === 0) return undefined;
  // The field's path is made only for a violation (two paths of every slice of every report pass here).
  const field = (j?: number) => `compactOutcomes.slices[${i}][${at}]${j === undefined ? '' : `[${j}]`}`;
  if (!Array.isArray(value) || value.length < 3) return (v.add(field(), COMPACT_PATH_SHAPE), null);
  const failures: unknown = value[0];
  if (!isCount(failures)) return (v.add(field(0), 'failures: must be a non-negative integer, at most the calls'), null);
  const first: unknown = value[1];
  if (!isLatencyBucket(first)) return (v.add(field(1), 'the first bucket: must be an integer from 0 to 551'), null);
  const latency: [number, number][] = [];
  let bucket = first;
  let calls = 0;
  let gapBefore = true;
  for (let j = 2; j < value.length; j++) {
    const n: unknown = value[j];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n === 0) {
      return (v.add(field(j), 'must be a positive integer count or a negative integer gap'), null);
    }
    if (n < 0) {
      if (gapBefore || j === value.length - 1) return (v.add(field(j), 'a gap must come between two counts'), null);
      bucket -= n;
      gapBefore = true;
      continue;
    }
    if (!isLatencyBucket(bucket)) return (v.add(field(j), 'lies beyond the last bucket (551)'), null);
    calls += n;
    if (!Number.isSafeInteger(calls)) return (v.add(field(), 'the counts must sum to at most 2^53 - 1 calls'), null);
    latency.push([bucket, n]);
    bucket++;
    gapBefore = false;
  }
  if (failures > calls) return (v.add(field(0), 'failures: must be a non-negative integer, at most the calls'), null);
  return { calls, failures, latency };
}

function parseOutcomes(v: Violations, value: unknown): Map<string, SliceOutcomeReport> {
  const out = new Map<string, SliceOutcomeReport>();
  const keys = sliceKeyed(v, value, 'outcomes');
  if (keys === null) return out;
  // Field paths are built only for a violation: an SDK's report of 50 slices, both paths, would
  // otherwise cost 150 strings that nobody reads.
  for (const key of keys) {
    const entry = (value as Json)[key];
    if (!isObject(entry)) {
      v.add(`outcomes[${JSON.stringify(key)}]`, 'must be an object with NEW and/or LEGACY');
      continue;
    }
    const next = entry.NEW === undefined ? undefined : parsePathOutcome(v, entry.NEW, key, 'NEW');
    const legacy = entry.LEGACY === undefined ? undefined : parsePathOutcome(v, entry.LEGACY, key, 'LEGACY');
    const slice: { NEW?: PathOutcomeReport; LEGACY?: PathOutcomeReport } = {};
    if (next !== undefined && next !== null) slice.NEW = next;
    if (legacy !== undefined && legacy !== null) slice.LEGACY = legacy;
    out.set(key, slice);
  }
  return out;
}

function parsePathOutcome(v: Violations, value: unknown, key: string, path: 'NEW' | 'LEGACY'): PathOutcomeReport | null {
  const field = (rest = ''): string => `outcomes[${JSON.stringify(key)}].${path}${rest}`;
  if (!isObject(value)) {
    v.add(field(), 'must be { "calls": n, "failures": n, "latency": { "scheme": "log2pct-v1", "buckets": [[bucket, count], ...] } }');
    return null;
  }
  const { calls, failures, latency } = value;
  if (!isCount(calls)) return (v.add(field('.calls'), 'must be a non-negative integer'), null);
  if (!isCount(failures) || failures > calls) return (v.add(field('.failures'), 'must be a non-negative integer, at most calls'), null);
  if (!isObject(latency) || latency.scheme !== LATENCY_SCHEME) return (v.add(field('.latency.scheme'), `must be "${LATENCY_SCHEME}"`), null);
  const buckets = latency.buckets;
  if (!Array.isArray(buckets)) return (v.add(field('.latency.buckets'), 'must be an array of [bucket, count] pairs'), null);
  let previous = -1;
  let sum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const pair: unknown = buckets[i];
    if (!Array.isArray(pair) || pair.length !== 2 || !isLatencyBucket(pair[0]) || !isCount(pair[1]) || pair[1] === 0) {
      return (v.add(field(`.latency.buckets[${i}]`), 'must be [bucket, count]: a bucket from 0 to 551 and a positive integer count'), null);
    }
    if (pair[0] <= previous) return (v.add(field(`.latency.buckets[${i}]`), 'buckets must be strictly increasing'), null);
    sum += pair[1];
    if (sum > calls) return (v.add(field('.latency.buckets'), 'counts must sum to exactly calls'), null);
    previous = pair[0];
  }
  if (sum !== calls) return (v.add(field('.latency.buckets'), 'counts must sum to exactly calls'), null);
  // The pairs as parsed, not copies: every one was checked to be exactly [bucket, count], and the
  // parsed body is this request's own, never seen by anything else.
  return { calls, failures, latency: buckets as [number, number][] };
}

function parseComparisons(v: Violations, value: unknown): Map<string, ComparisonReport> {
  const out = new Map<string, ComparisonReport>();
  const keys = sliceKeyed(v, value, 'comparisons');
  if (keys === null) return out;
  let samplesInReport = 0;
  for (const key of keys) {
    const field = `comparisons[${JSON.stringify(key)}]`;
    const entry = (value as Json)[key];
    if (!isObject(entry) || !isCount(entry.compared) || !isCount(entry.mismatches) || !isCount(entry.otherFailures) || !isCount(entry.timeouts)) {
      v.add(field, 'must be { "compared": n, "mismatches": n, "otherFailures": n, "timeouts": n, "samples": [...] } with non-negative integer counts');
      continue;
    }
    if (entry.mismatches > entry.compared) {
      v.add(`${field}.mismatches`, 'must be at most compared');
      continue;
    }
    const samples: MismatchSampleReport[] = [];
    const list = entry.samples ?? [];
    if (!Array.isArray(list) || list.length > MAX_SAMPLES_PER_SLICE) {
      v.add(`${field}.samples`, `must be an array of at most ${MAX_SAMPLES_PER_SLICE} samples`);
      continue;
    }
    samplesInReport += list.length;
    if (samplesInReport > MAX_SAMPLES_PER_REPORT) {
      v.add(`${field}.samples`, `at most ${MAX_SAMPLES_PER_REPORT} samples per report`);
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const sample = parseSample(v, list[i], `${field}.samples[${i}]`);
      if (sample !== null) samples.push(sample);
    }
    out.set(key, { compared: entry.compared, mismatches: entry.mismatches, otherFailures: entry.otherFailures, timeouts: entry.timeouts, samples });
  }
  return out;
}

/**
 * `segmentCoverage`: `{ sliceKey: { "sampled": n, "segments": { segmentKey: n } } }`, at most
 * MAX_OUTCOME_SLICES slices and MAX_COVERAGE_SEGMENTS segments a slice, each count at most
 * `sampled`. Which segments a slice names is not checked here: a report may come from an SDK a
 * revision behind, and a segment the slice no longer names is simply not read.
 */
function parseSegmentCoverage(v: Violations, value: unknown): Map<string, SliceCoverageReport> {
  const out = new Map<string, SliceCoverageReport>();
  const keys = sliceKeyed(v, value, 'segmentCoverage');
  if (keys === null) return out;
  const shape = `must be { "sampled": n, "segments": { segmentKey: n } } with non-negative integer counts, at most ${MAX_COVERAGE_SEGMENTS} segments`;
  for (const key of keys) {
    const field = `segmentCoverage[${JSON.stringify(key)}]`;
    const entry = (value as Json)[key];
    if (!isObject(entry) || !isCount(entry.sampled) || !isObject(entry.segments)) {
      v.add(field, shape);
      continue;
    }
    const sampled = entry.sampled;
    const named = entry.segments;
    const segmentKeys = Object.keys(named);
    if (segmentKeys.length > MAX_COVERAGE_SEGMENTS) {
      v.add(`${field}.segments`, shape);
      continue;
    }
    const segments = new Map<string, number>();
    for (const segment of segmentKeys) {
      const n = named[segment];
      if (!SEGMENT_KEY_PATTERN.test(segment))
        v.add(`${field}.segments[${JSON.stringify(segment)}]`, 'is not a segment key (lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -)');
      else if (!isCount(n) || n > sampled) v.add(`${field}.segments[${JSON.stringify(segment)}]`, 'must be a non-negative integer, at most sampled');
      else segments.set(segment, n);
    }
    out.set(key, { sampled, segments });
  }
  return out;
}

function parseSample(v: Violations, value: unknown, field: string): MismatchSampleReport | null {
  if (!isObject(value)) return (v.add(field, 'must be { "at", "served", "subject", "diff" }'), null);
  const at = instant(v, `${field}.at`, value.at) === null ? null : (value.at as string);
  if (value.served !== 'NEW' && value.served !== 'LEGACY') return (v.add(`${field}.served`, 'must be "NEW" or "LEGACY"'), null);
  if (typeof value.subject !== 'string' || !SUBJECT.test(value.subject)) return (v.add(`${field}.subject`, 'must be 16 lowercase hexadecimal digits'), null);
  const diff = value.diff;
  // The body check (storable-text.ts) refuses NUL and unpaired surrogates already; kept here too.
  if (typeof diff !== 'string' || diff.includes('\u0000') || !diff.isWellFormed() || (diff.length > MAX_DIFF_LENGTH && [...diff].length > MAX_DIFF_LENGTH)) {
    return (v.add(`${field}.diff`, `must be a string of at most ${MAX_DIFF_LENGTH} characters, without NUL or unpaired surrogates`), null);
  }
  if (at === null) return null;
  return { at, served: value.served, subject: value.subject, diff };
}

/**
 * `unleash-node-sdk:6.12.1` (the `unleash-sdk` header) as name and version; a value without a
 * colon is all name. Bounded like our own SDK's fields; anything else is dropped (null), never
 * refused: the header is informational.
 */
export function splitSdkHeader(header: string | null | undefined): { sdkName: string | null; sdkVersion: string | null } {
  const value = header?.trim();
  if (!value) return { sdkName: null, sdkVersion: null };
  const colon = value.lastIndexOf(':');
  const sdkName = colon > 0 ? value.slice(0, colon) : value;
  const sdkVersion = colon > 0 && colon < value.length - 1 ? value.slice(colon + 1) : null;
  return {
    sdkName: isName(sdkName, MAX_SDK_FIELD_LENGTH) ? sdkName : null,
    sdkVersion: sdkVersion !== null && isName(sdkVersion, MAX_SDK_FIELD_LENGTH) ? sdkVersion : null,
  };
}
