import fc from 'fast-check';
import { LATENCY_BUCKETS } from '@switchyard/client-sdk/core';
import type { FieldViolation } from '../common/errors/switchyard.exception.js';
import { MAX_DIFF_LENGTH, MAX_OUTCOME_SLICES, parseSdkReport } from './traffic-report.js';

/** The `outcomes` and `comparisons` members of a usage report (docs/outcomes.md, "The report"). */

const KEY = 'payments.provider.mpesa';
const sample = { at: '2026-12-02T10:01:02.345Z', served: 'LEGACY', subject: '9f86d081884c7d65', diff: '$.balance: 100 ≠ 101' };
const report = (more: Record<string, unknown>) => ({
  appName: 'payments-api',
  instanceId: 'pod-7f9c',
  bucket: { start: '2026-12-02T10:00:00.000Z', stop: '2026-12-02T10:01:00.000Z', slices: { [KEY]: { NEW: 1204, LEGACY: 98311 } } },
  ...more,
});
const documented = () =>
  report({
    outcomes: {
      [KEY]: {
        NEW: {
          calls: 1204,
          failures: 24,
          latency: {
            scheme: 'log2pct-v1',
            buckets: [
              [402, 1000],
              [410, 204],
            ],
          },
        },
        LEGACY: { calls: 98311, failures: 98, latency: { scheme: 'log2pct-v1', buckets: [[398, 98311]] } },
      },
    },
    comparisons: { [KEY]: { compared: 1000, mismatches: 1, otherFailures: 0, timeouts: 0, samples: [sample] } },
  });

function violations(body: unknown): readonly FieldViolation[] {
  const parsed = parseSdkReport(body);
  if (parsed.ok) throw new Error('expected a refusal');
  return parsed.violations;
}

describe('parseSdkReport: outcomes and comparisons', () => {
  it('reads the documented example exactly', () => {
    const parsed = parseSdkReport(documented());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations));
    expect([...parsed.value.outcomes]).toEqual([
      [
        KEY,
        {
          NEW: {
            calls: 1204,
            failures: 24,
            latency: [
              [402, 1000],
              [410, 204],
            ],
          },
          LEGACY: { calls: 98311, failures: 98, latency: [[398, 98311]] },
        },
      ],
    ]);
    expect([...parsed.value.comparisons]).toEqual([[KEY, { compared: 1000, mismatches: 1, otherFailures: 0, timeouts: 0, samples: [sample] }]]);
  });

  it('takes both as absent or null (an older SDK), and either path alone', () => {
    for (const more of [{}, { outcomes: null, comparisons: null }]) {
      const parsed = parseSdkReport(report(more));
      expect(parsed.ok && parsed.value.outcomes.size + parsed.value.comparisons.size).toBe(0);
    }
    const parsed = parseSdkReport(report({ outcomes: { [KEY]: { NEW: { calls: 0, failures: 0, latency: { scheme: 'log2pct-v1', buckets: [] } } } } }));
    expect(parsed.ok && parsed.value.outcomes.get(KEY)).toEqual({ NEW: { calls: 0, failures: 0, latency: [] } });
  });

  const newOutcome = (o: Record<string, unknown>) =>
    report({ outcomes: { [KEY]: { NEW: { calls: 3, failures: 1, latency: { scheme: 'log2pct-v1', buckets: [[10, 3]] }, ...o } } } });
  const comparison = (c: Record<string, unknown>) => report({ comparisons: { [KEY]: { compared: 10, mismatches: 1, otherFailures: 0, timeouts: 0, ...c } } });

  it.each([
    ['failures above calls', newOutcome({ failures: 4 }), 'outcomes["payments.provider.mpesa"].NEW.failures'],
    ['a fractional count', newOutcome({ calls: 2.5 }), 'outcomes["payments.provider.mpesa"].NEW.calls'],
    ['an unknown scheme', newOutcome({ latency: { scheme: 'hdr', buckets: [[10, 3]] } }), 'outcomes["payments.provider.mpesa"].NEW.latency.scheme'],
    ['counts not summing to calls', newOutcome({ latency: { scheme: 'log2pct-v1', buckets: [[10, 2]] } }), 'outcomes["payments.provider.mpesa"].NEW.latency.buckets'],
    ['a bucket out of range', newOutcome({ latency: { scheme: 'log2pct-v1', buckets: [[LATENCY_BUCKETS, 3]] } }), 'outcomes["payments.provider.mpesa"].NEW.latency.buckets[0]'],
    [
      'buckets out of order',
      newOutcome({
        latency: {
          scheme: 'log2pct-v1',
          buckets: [
            [11, 1],
            [10, 2],
          ],
        },
      }),
      'outcomes["payments.provider.mpesa"].NEW.latency.buckets[1]',
    ],
    [
      'a zero count',
      newOutcome({
        latency: {
          scheme: 'log2pct-v1',
          buckets: [
            [10, 3],
            [11, 0],
          ],
        },
      }),
      'outcomes["payments.provider.mpesa"].NEW.latency.buckets[1]',
    ],
    ['no slice key', report({ outcomes: { 'Not A Key': {} } }), 'outcomes["Not A Key"]'],
    ['mismatches above compared', comparison({ mismatches: 11 }), 'comparisons["payments.provider.mpesa"].mismatches'],
    ['a negative count', comparison({ timeouts: -1 }), 'comparisons["payments.provider.mpesa"]'],
    ['six samples', comparison({ samples: Array(6).fill(sample) }), 'comparisons["payments.provider.mpesa"].samples'],
    ['a subject that is no hash', comparison({ samples: [{ ...sample, subject: 'user-42' }] }), 'comparisons["payments.provider.mpesa"].samples[0].subject'],
    ['a diff too long', comparison({ samples: [{ ...sample, diff: 'x'.repeat(MAX_DIFF_LENGTH + 1) }] }), 'comparisons["payments.provider.mpesa"].samples[0].diff'],
    ['a NUL in a diff', comparison({ samples: [{ ...sample, diff: 'a\u0000b' }] }), 'comparisons["payments.provider.mpesa"].samples[0].diff'],
    ['a served path that is neither', comparison({ samples: [{ ...sample, served: 'BOTH' }] }), 'comparisons["payments.provider.mpesa"].samples[0].served'],
    ['a date that is not RFC 3339', comparison({ samples: [{ ...sample, at: 'yesterday' }] }), 'comparisons["payments.provider.mpesa"].samples[0].at'],
  ])('refuses the whole report for %s, naming the field', (_what, body, field) => {
    expect(violations(body).map((v) => v.field)).toContain(field);
  });

  it('bounds slices and samples per report', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_OUTCOME_SLICES + 1 }, (_, i) => [`s${i}`, {}]));
    expect(violations(report({ outcomes: many })).map((v) => v.field)).toEqual(['outcomes']);
    const five = (i: number) => [`s${i}`, { compared: 5, mismatches: 5, otherFailures: 0, timeouts: 0, samples: Array(5).fill(sample) }];
    expect(violations(report({ comparisons: Object.fromEntries([0, 1, 2, 3, 4].map(five)) })).map((v) => v.field)).toEqual(['comparisons["s4"].samples']);
    // 4,096 characters of the astral plane (8,192 UTF-16 units) are 4,096 characters.
    expect(parseSdkReport(comparison({ samples: [{ ...sample, diff: '😀'.repeat(MAX_DIFF_LENGTH) }] })).ok).toBe(true);
  });
});

describe('parseSdkReport: outcomes on generated hostile input (property)', () => {
  const count = fc.oneof(fc.nat(1_000), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: -3, max: -1 }), fc.double(), fc.constant('7'), fc.constant(null));
  const histogram = fc.oneof(
    fc.array(fc.tuple(fc.integer({ min: -2, max: LATENCY_BUCKETS + 2 }), count), { maxLength: 6 }),
    fc.constant('[[1,1]]'),
    fc.array(fc.anything(), { maxLength: 3 }),
  );
  const path = fc.oneof(
    fc.record({ calls: count, failures: count, latency: fc.record({ scheme: fc.constantFrom('log2pct-v1', 'log2pct-v2'), buckets: histogram }) }),
    fc.anything(),
  );
  const key = fc.oneof(fc.constantFrom(KEY, 'a', 'b.c'), fc.string({ maxLength: 5 }));
  const samples = fc.array(
    fc.record({
      at: fc.oneof(fc.constant(sample.at), fc.string({ maxLength: 4 })),
      served: fc.constantFrom('NEW', 'LEGACY', 'new'),
      subject: fc.oneof(fc.constant(sample.subject), fc.string({ unit: fc.constantFrom(...'0123456789abcdefA'), minLength: 15, maxLength: 17 })),
      diff: fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 10 })),
    }),
    { maxLength: 7 },
  );
  const outcomes = fc.dictionary(key, fc.record({ NEW: path, LEGACY: path }, { requiredKeys: [] }), { maxKeys: 3 });
  const comparisons = fc.dictionary(key, fc.record({ compared: count, mismatches: count, otherFailures: count, timeouts: count, samples }, { requiredKeys: [] }), { maxKeys: 3 });

  it('either refuses with field paths under outcomes/comparisons, or keeps exactly what was sent and every bound holds', () => {
    fc.assert(
      fc.property(outcomes, comparisons, (o, c) => {
        const body = JSON.parse(JSON.stringify(report({ outcomes: o, comparisons: c }))) as {
          outcomes: Record<string, Record<string, { calls: number; failures: number; latency: { buckets: unknown } }>>;
          comparisons: Record<string, object>;
        };
        const parsed = parseSdkReport(body);
        if (!parsed.ok) {
          expect(parsed.violations.length).toBeGreaterThan(0);
          for (const v of parsed.violations) expect(v.field).toMatch(/^(outcomes|comparisons)/);
          return;
        }
        for (const [k, slice] of parsed.value.outcomes) {
          for (const p of ['NEW', 'LEGACY'] as const) {
            const got = slice[p];
            const sent = body.outcomes[k]![p];
            if (got === undefined) {
              expect(sent).toBeUndefined();
              continue;
            }
            expect(got).toEqual({ calls: sent!.calls, failures: sent!.failures, latency: sent!.latency.buckets });
            expect(got.failures).toBeLessThanOrEqual(got.calls);
            expect(got.latency.reduce((n, [, c]) => n + c, 0)).toBe(got.calls);
          }
        }
        for (const [k, got] of parsed.value.comparisons) {
          const sent = body.comparisons[k];
          expect(got).toEqual({ samples: [], ...sent });
          expect(got.mismatches).toBeLessThanOrEqual(got.compared);
          expect(got.samples.length).toBeLessThanOrEqual(5);
        }
      }),
      { numRuns: 500 },
    );
  });
});
