/**
 * The bodies Unleash SDKs POST: registration (`/api/client/register`, once at start) and usage
 * metrics (`/api/client/metrics`, every metricsInterval). Shapes read in unleash-client's
 * metrics.js (`getClientData`, `createMetricsData`); the Go and Java SDKs send the same fields.
 * Validated for their basic shape only: extra fields (platformName, specVersion, connectionId,
 * impactMetrics...) are ignored, as the Unleash server does.
 */
import type { FieldViolation } from '../../common/errors/switchyard.exception.js';
import { isName, MAX_NAME_LENGTH } from '../../traffic/traffic-report.js';

export interface ClientRegistration {
  readonly appName: string;
  readonly instanceId: string;
  readonly sdkVersion: string | null;
  readonly strategies: readonly string[];
  readonly started: string | null;
  /** The SDK's metrics interval in ms, as it reports it. */
  readonly interval: number | null;
}

export interface ToggleCounts {
  readonly yes: number;
  readonly no: number;
  readonly variants: Readonly<Record<string, number>>;
}

export interface ClientMetrics {
  readonly appName: string;
  readonly instanceId: string;
  readonly bucket: {
    readonly start: string;
    readonly stop: string;
    /** Per toggle (slice key): how many isEnabled calls answered yes (NEW) and no (LEGACY). */
    readonly toggles: Readonly<Record<string, ToggleCounts>>;
  };
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly violations: readonly FieldViolation[] };

const MAX_NAME = MAX_NAME_LENGTH;
const MAX_TOGGLES = 10_000;
const NAME_RULE = `must be a non-empty string of at most ${MAX_NAME} characters, without control characters or unpaired surrogates`;

type Json = Readonly<Record<string, unknown>>;

class Reader {
  readonly violations: FieldViolation[] = [];

  constructor(readonly body: Json) {}

  fail(field: string, message: string): void {
    this.violations.push({ field, message });
  }

  /**
   * A required name (app, instance): as our SDK's reports have them (traffic-report.ts `isName`),
   * since both become rows of the same tables.
   */
  name(field: string, value: unknown = this.body[field]): string {
    if (!isName(value, MAX_NAME)) {
      this.fail(field, NAME_RULE);
      return '';
    }
    return value;
  }

  /** The instance id: from the body, else the UNLEASH-INSTANCEID header, else `default` (blank counts as absent). */
  instanceId(header: string | undefined): string {
    const given = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
    return this.name('instanceId', given(this.body.instanceId) ?? given(header) ?? 'default');
  }

  optionalString(field: string): string | null {
    const value = this.body[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value.length > MAX_NAME) {
      this.fail(field, `must be a string of at most ${MAX_NAME} characters`);
      return null;
    }
    return value;
  }

  /** An instant: the SDKs send JSON dates (ISO 8601 strings). */
  date(field: string, value: unknown): string {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      this.fail(field, 'must be a date-time');
      return '';
    }
    return value;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function done<T>(reader: Reader, value: T): Parsed<T> {
  return reader.violations.length > 0 ? { ok: false, violations: reader.violations } : { ok: true, value };
}

const NOT_AN_OBJECT = { ok: false, violations: [{ field: 'body', message: 'must be a JSON object' }] } as const;

/** `instanceId` may be absent (some SDKs send it only as the UNLEASH-INSTANCEID header). */
export function parseRegistration(body: unknown, headerInstanceId?: string): Parsed<ClientRegistration> {
  if (!isObject(body)) return NOT_AN_OBJECT;
  const r = new Reader(body);
  const appName = r.name('appName');
  const instanceId = r.instanceId(headerInstanceId);
  const sdkVersion = r.optionalString('sdkVersion');
  const started = body.started === undefined || body.started === null ? null : r.date('started', body.started);
  let strategies: string[] = [];
  if (body.strategies !== undefined) {
    if (Array.isArray(body.strategies) && body.strategies.length <= 100 && body.strategies.every((s) => typeof s === 'string')) strategies = body.strategies;
    else r.fail('strategies', 'must be a list of strategy names');
  }
  let interval: number | null = null;
  if (body.interval !== undefined && body.interval !== null) {
    if (isCount(body.interval)) interval = body.interval;
    else r.fail('interval', 'must be a non-negative integer (milliseconds)');
  }
  return done(r, { appName, instanceId, sdkVersion, strategies, started, interval });
}

export function parseMetrics(body: unknown, headerInstanceId?: string): Parsed<ClientMetrics> {
  if (!isObject(body)) return NOT_AN_OBJECT;
  const r = new Reader(body);
  const appName = r.name('appName');
  const instanceId = r.instanceId(headerInstanceId);
  const bucket = body.bucket;
  if (!isObject(bucket)) {
    r.fail('bucket', 'must be an object with start, stop and toggles');
    return done(r, null as never);
  }
  const start = r.date('bucket.start', bucket.start);
  const stop = r.date('bucket.stop', bucket.stop);
  // Null-prototype maps: a toggle or variant named "__proto__" is just a name.
  const toggles = Object.create(null) as Record<string, ToggleCounts>;
  if (!isObject(bucket.toggles)) {
    r.fail('bucket.toggles', 'must be an object keyed by toggle name');
  } else {
    const entries = Object.entries(bucket.toggles);
    if (entries.length > MAX_TOGGLES) r.fail('bucket.toggles', `at most ${MAX_TOGGLES} toggles per report`);
    for (const [name, counts] of entries.slice(0, MAX_TOGGLES)) {
      const field = `bucket.toggles[${JSON.stringify(name)}]`;
      if (!isObject(counts) || !isCount(counts.yes) || !isCount(counts.no)) {
        r.fail(field, 'must be { yes, no } with non-negative integer counts');
        continue;
      }
      const variants = Object.create(null) as Record<string, number>;
      if (counts.variants !== undefined && counts.variants !== null) {
        if (!isObject(counts.variants) || !Object.values(counts.variants).every(isCount)) {
          r.fail(`${field}.variants`, 'must map variant names to non-negative integer counts');
          continue;
        }
        Object.assign(variants, counts.variants);
      }
      toggles[name] = { yes: counts.yes, no: counts.no, variants };
    }
  }
  return done(r, { appName, instanceId, bucket: { start, stop, toggles } });
}
