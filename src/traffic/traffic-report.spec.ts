import type { FieldViolation } from '../common/errors/switchyard.exception.js';
import fc from 'fast-check';
import { isName, MAX_NAME_LENGTH, MAX_REPORT_SLICES, parseSdkReport, splitSdkHeader } from './traffic-report.js';

const valid = () => ({
  appName: 'payments-api',
  instanceId: 'pod-1-1234-ab12cd',
  sdkName: 'switchyard-node',
  sdkVersion: '0.1.0',
  revision: 42,
  syncedAt: '2026-01-01T12:00:59.000Z',
  bucket: { start: '2026-01-01T12:00:00.000Z', stop: '2026-01-01T12:01:00.000Z', slices: { 'payments.provider.mpesa': { NEW: 12, LEGACY: 240 } } },
});

function violations(body: unknown): readonly FieldViolation[] {
  const parsed = parseSdkReport(body);
  if (parsed.ok) throw new Error('expected a refusal');
  return parsed.violations;
}

describe('parseSdkReport', () => {
  it('reads a valid report', () => {
    const parsed = parseSdkReport(valid());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      appName: 'payments-api',
      instanceId: 'pod-1-1234-ab12cd',
      sdkName: 'switchyard-node',
      sdkVersion: '0.1.0',
      revision: 42,
      syncedAt: Date.parse('2026-01-01T12:00:59.000Z'),
      start: Date.parse('2026-01-01T12:00:00.000Z'),
      stop: Date.parse('2026-01-01T12:01:00.000Z'),
    });
    expect([...parsed.value.slices]).toEqual([['payments.provider.mpesa', { NEW: 12, LEGACY: 240 }]]);
  });

  it('takes the optional fields as absent or null, and ignores unknown ones', () => {
    const { sdkName: _n, sdkVersion: _v, revision: _r, syncedAt: _s, ...rest } = valid();
    const parsed = parseSdkReport({ ...rest, revision: null, future: { anything: true } });
    expect(parsed.ok && parsed.value).toMatchObject({ sdkName: null, sdkVersion: null, revision: null, syncedAt: null, final: false, metricsIntervalMs: null });
  });

  it('reads the goodbye of a closing SDK and the interval it reports at', () => {
    const parsed = parseSdkReport({ ...valid(), final: true, metricsIntervalMs: 15_000 });
    expect(parsed.ok && parsed.value).toMatchObject({ final: true, metricsIntervalMs: 15_000 });
    expect(parseSdkReport({ ...valid(), final: false }).ok && parseSdkReport({ ...valid(), final: null }).ok).toBe(true);
  });

  it.each([
    ['not an object', [1, 2], 'body'],
    ['no app name', { ...valid(), appName: undefined }, 'appName'],
    ['a blank app name', { ...valid(), appName: '  ' }, 'appName'],
    ['a control character', { ...valid(), instanceId: 'pod\n1' }, 'instanceId'],
    ['a NUL character', { ...valid(), appName: 'pay\u0000ments' }, 'appName'],
    ['a lone high surrogate', { ...valid(), instanceId: 'pod-\uD83D' }, 'instanceId'],
    ['a lone low surrogate', { ...valid(), appName: '\uDCB0payments' }, 'appName'],
    ['a lone surrogate in the SDK name', { ...valid(), sdkName: 'sdk\uD800x' }, 'sdkName'],
    ['an over-long instance id', { ...valid(), instanceId: 'x'.repeat(257) }, 'instanceId'],
    ['an over-long sdk version', { ...valid(), sdkVersion: '1'.repeat(129) }, 'sdkVersion'],
    ['a negative revision', { ...valid(), revision: -1 }, 'revision'],
    ['a fractional revision', { ...valid(), revision: 1.5 }, 'revision'],
    ['a sync time that is not RFC 3339', { ...valid(), syncedAt: 'yesterday' }, 'syncedAt'],
    ['no bucket', { ...valid(), bucket: undefined }, 'bucket'],
    ['a bad start', { ...valid(), bucket: { ...valid().bucket, start: 1767268800000 } }, 'bucket.start'],
    ['stop before start', { ...valid(), bucket: { ...valid().bucket, stop: '2026-01-01T11:59:00Z' } }, 'bucket.stop'],
    ['slices as a list', { ...valid(), bucket: { ...valid().bucket, slices: [] } }, 'bucket.slices'],
    ['a key that is no slice key', { ...valid(), bucket: { ...valid().bucket, slices: { 'Payments.MPESA': { NEW: 1, LEGACY: 0 } } } }, 'bucket.slices["Payments.MPESA"]'],
    ['a negative count', { ...valid(), bucket: { ...valid().bucket, slices: { a: { NEW: -1, LEGACY: 0 } } } }, 'bucket.slices["a"]'],
    ['an unsafe count', { ...valid(), bucket: { ...valid().bucket, slices: { a: { NEW: 2 ** 53, LEGACY: 0 } } } }, 'bucket.slices["a"]'],
    ['a count as text', { ...valid(), bucket: { ...valid().bucket, slices: { a: { NEW: '1', LEGACY: 0 } } } }, 'bucket.slices["a"]'],
    ['a missing path', { ...valid(), bucket: { ...valid().bucket, slices: { a: { NEW: 1 } } } }, 'bucket.slices["a"]'],
    ['final as text', { ...valid(), final: 'true' }, 'final'],
    ['final as a number', { ...valid(), final: 1 }, 'final'],
    ['a zero interval', { ...valid(), metricsIntervalMs: 0 }, 'metricsIntervalMs'],
    ['a fractional interval', { ...valid(), metricsIntervalMs: 1.5 }, 'metricsIntervalMs'],
    ['an interval as text', { ...valid(), metricsIntervalMs: '60000' }, 'metricsIntervalMs'],
  ])('refuses %s, naming the field', (_what, body, field) => {
    expect(violations(body).map((v) => v.field)).toContain(field);
  });

  it('takes names with well-formed surrogate pairs (emoji), stored as sent', () => {
    const parsed = parseSdkReport({ ...valid(), appName: 'payments-\uD83D\uDCB0' });
    expect(parsed.ok && parsed.value.appName).toBe('payments-💰');
  });

  it('refuses the whole report when one entry is bad: nothing of it is usable', () => {
    const body = { ...valid(), bucket: { ...valid().bucket, slices: { good: { NEW: 1, LEGACY: 1 }, bad: { NEW: -5, LEGACY: 0 } } } };
    expect(parseSdkReport(body).ok).toBe(false);
  });

  it('treats "__proto__" as a key like any other (refused: it is no slice key)', () => {
    const body: unknown = JSON.parse(
      `{"appName":"a","instanceId":"i","bucket":{"start":"2026-01-01T00:00:00Z","stop":"2026-01-01T00:01:00Z","slices":{"__proto__":{"NEW":1,"LEGACY":0}}}}`,
    );
    expect(violations(body)).toEqual([{ field: 'bucket.slices["__proto__"]', message: expect.any(String) }]);
  });

  it('bounds the slices per report and the violations listed', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_REPORT_SLICES + 1 }, (_, i) => [`s${i}`, { NEW: 1, LEGACY: 1 }]));
    expect(violations({ ...valid(), bucket: { ...valid().bucket, slices: many } })).toEqual([{ field: 'bucket.slices', message: expect.stringContaining('10000') }]);
    const bad = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`s${i}`, { NEW: -1, LEGACY: 1 }]));
    expect(violations({ ...valid(), bucket: { ...valid().bucket, slices: bad } }).length).toBe(20);
  });
});

describe('parseSdkReport on hostile input (property)', () => {
  /** Anything in each field, often close to valid, so that every check is reached. */
  const nearlyValid = fc.record(
    {
      appName: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constant('payments-api'), fc.anything()),
      instanceId: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constant('pod-1'), fc.jsonValue()),
      sdkName: fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue()),
      revision: fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.jsonValue()),
      syncedAt: fc.oneof(
        fc.constant(null),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      bucket: fc.oneof(
        fc.record({
          start: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.constant('2026-01-01T12:00:00Z'),
            fc.jsonValue(),
          ),
          stop: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.constant('2026-01-01T12:01:00Z'),
            fc.jsonValue(),
          ),
          slices: fc.oneof(
            fc.dictionary(
              fc.oneof(fc.constantFrom('a', 'payments.x', '__proto__', 'constructor', 'toString'), fc.string({ unit: 'binary', maxLength: 140 })),
              fc.oneof(
                fc.record({ NEW: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.double(), fc.bigInt().map(String)), LEGACY: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer()) }),
                fc.jsonValue(),
              ),
              { maxKeys: 40 },
            ),
            fc.jsonValue(),
          ),
        }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  );

  it('never throws, lists at most 20 violations, and accepts only reports within every bound', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), nearlyValid), (body) => {
        const parsed = parseSdkReport(body);
        if (!parsed.ok) {
          expect(parsed.violations.length).toBeGreaterThan(0);
          expect(parsed.violations.length).toBeLessThanOrEqual(20);
          return;
        }
        const r = parsed.value;
        for (const name of [r.appName, r.instanceId]) expect(isName(name, MAX_NAME_LENGTH)).toBe(true);
        expect(r.slices.size).toBeLessThanOrEqual(MAX_REPORT_SLICES);
        expect(r.start).toBeLessThanOrEqual(r.stop);
        for (const [key, c] of r.slices) {
          expect(key).toMatch(/^[a-z0-9][a-z0-9._:/-]{0,127}$/);
          for (const n of [c.NEW, c.LEGACY]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('splitSdkHeader', () => {
  it.each([
    ['unleash-node-sdk:6.12.1', { sdkName: 'unleash-node-sdk', sdkVersion: '6.12.1' }],
    ['unleash-client-java:9.2.0', { sdkName: 'unleash-client-java', sdkVersion: '9.2.0' }],
    ['custom', { sdkName: 'custom', sdkVersion: null }],
    ['trailing:', { sdkName: 'trailing', sdkVersion: null }],
    ['', { sdkName: null, sdkVersion: null }],
    [undefined, { sdkName: null, sdkVersion: null }],
    [`${'x'.repeat(200)}:1.0.0`, { sdkName: null, sdkVersion: '1.0.0' }],
  ])('%s', (header, expected) => {
    expect(splitSdkHeader(header)).toEqual(expected);
  });
});
