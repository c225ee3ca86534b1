/**
 * The body of `POST /sdk/v1/metrics` (client-sdk/PROTOCOL.md, "Usage reports"): what one SDK
 * instance decided since its last accepted report, the revision it holds, and when it last synced.
 *
 * Pure: no Nest, no I/O. Validation is all-or-nothing: a report with any violation is refused as a
 * whole (400 INVALID_INPUT naming every offending field), so nothing of it is counted. Unknown
 * fields are ignored, so that newer SDKs can add some without breaking older services. Whether the
 * counts are plausible is the next check (plausible-counts.ts), on a report of the right shape.
 */
import { isRfc3339, SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import type { FieldViolation } from '../common/errors/switchyard.exception.js';

/** The SDK families whose instances the service tracks (GraphQL `SdkProtocol`). */
export type TrafficProtocol = 'SWITCHYARD' | 'UNLEASH';

/** Decisions on each path. Non-negative safe integers. */
export interface PathCounts {
  readonly NEW: number;
  readonly LEGACY: number;
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
}

export type ParsedReport = { readonly ok: true; readonly value: SdkReport } | { readonly ok: false; readonly violations: readonly FieldViolation[] };

/** Slices per report: the SDK counts at most 10,000 distinct slice keys (client.ts MAX_COUNTED_SLICES). */
export const MAX_REPORT_SLICES = 10_000;
/** App names and instance ids (as the Unleash client API accepts them). */
export const MAX_NAME_LENGTH = 256;
/** SDK name and version. */
export const MAX_SDK_FIELD_LENGTH = 128;
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
  if (v.list.length > 0) return { ok: false, violations: v.list };
  return { ok: true, value: { appName, instanceId, sdkName, sdkVersion, revision, syncedAt, start, stop, slices, final, metricsIntervalMs } };
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
