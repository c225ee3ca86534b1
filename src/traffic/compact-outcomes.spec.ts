import fc from 'fast-check';
import { compactOf, LATENCY_BUCKETS, LATENCY_SCHEME } from '@switchyard/client-sdk/core';
import type { FieldViolation } from '../common/errors/switchyard.exception.js';
import { type InstanceObservation, type OutcomeCell, TrafficBuffer } from './traffic-buffer.js';
import { MAX_OUTCOME_SLICES, parseSdkReport, type SdkReport } from './traffic-report.js';

/** `compactOutcomes`, the compact form of a report's outcomes (docs/outcomes.md, "The compact form"). */

const KEY = 'payments.provider.mpesa';
const report = (more: Record<string, unknown>) => ({
  appName: 'payments-api',
  instanceId: 'pod-7f9c',
  bucket: { start: '2026-12-02T10:00:00.000Z', stop: '2026-12-02T10:01:00.000Z', slices: {} },
  ...more,
});
const compact = (slices: unknown, more: Record<string, unknown> = {}) => report({ compactOutcomes: { format: 1, scheme: LATENCY_SCHEME, slices, ...more } });

function parsed(body: unknown): SdkReport {
  const result = parseSdkReport(JSON.parse(JSON.stringify(body)));
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.value;
}

function violations(body: unknown): readonly FieldViolation[] {
  const result = parseSdkReport(body);
  if (result.ok) throw new Error('expected a refusal');
  return result.violations;
}

describe('parseSdkReport: compactOutcomes', () => {
  it('reads the documented example as the same figures as its `outcomes` form', () => {
    const fromCompact = parsed(compact([[KEY, [24, 402, 1000, -7, 204], [98, 398, 98311]]]));
    const fromOutcomes = parsed(
      report({
        outcomes: {
          [KEY]: {
            NEW: {
              calls: 1204,
              failures: 24,
              latency: {
                scheme: LATENCY_SCHEME,
                buckets: [
                  [402, 1000],
                  [410, 204],
                ],
              },
            },
            LEGACY: { calls: 98311, failures: 98, latency: { scheme: LATENCY_SCHEME, buckets: [[398, 98311]] } },
          },
        },
      }),
    );
    expect([...fromCompact.outcomes]).toEqual([...fromOutcomes.outcomes]);
  });

  it('takes 0 as a path without calls, and either path alone', () => {
    expect([...parsed(compact([[KEY, 0, [0, 10, 3]]])).outcomes]).toEqual([[KEY, { LEGACY: { calls: 3, failures: 0, latency: [[10, 3]] } }]]);
    expect([...parsed(compact([[KEY, 0, 0]])).outcomes]).toEqual([[KEY, {}]]);
  });

  const at = (path: unknown) => compact([[KEY, path, 0]]);
  it.each([
    ['with `outcomes` as well', { ...compact([[KEY, 0, 0]]), outcomes: {} }, 'compactOutcomes'],
    ['not an object', report({ compactOutcomes: [1] }), 'compactOutcomes'],
    ['an unknown format', compact([], { format: 2 }), 'compactOutcomes.format'],
    ['an unknown scheme', compact([], { scheme: 'hdr' }), 'compactOutcomes.scheme'],
    ['slices not an array', compact({ [KEY]: 0 }), 'compactOutcomes.slices'],
    ['an entry of two', compact([[KEY, 0]]), 'compactOutcomes.slices[0]'],
    ['no slice key', compact([['Not A Key', 0, 0]]), 'compactOutcomes.slices[0][0]'],
    [
      'a slice twice',
      compact([
        [KEY, 0, 0],
        [KEY, 0, 0],
      ]),
      'compactOutcomes.slices[1][0]',
    ],
    ['a path of another shape', at({ calls: 1 }), 'compactOutcomes.slices[0][1]'],
    ['a path without counts', at([0, 10]), 'compactOutcomes.slices[0][1]'],
    ['negative failures', at([-1, 10, 3]), 'compactOutcomes.slices[0][1][0]'],
    ['failures above calls', at([4, 10, 3]), 'compactOutcomes.slices[0][1][0]'],
    ['a first bucket out of range', at([0, LATENCY_BUCKETS, 3]), 'compactOutcomes.slices[0][1][1]'],
    ['a zero count', at([0, 10, 3, 0, 1]), 'compactOutcomes.slices[0][1][3]'],
    ['a fractional count', at([0, 10, 2.5]), 'compactOutcomes.slices[0][1][2]'],
    ['a count as text', at([0, 10, '3']), 'compactOutcomes.slices[0][1][2]'],
    ['a gap first', at([0, 10, -2, 3]), 'compactOutcomes.slices[0][1][2]'],
    ['a gap last', at([0, 10, 3, -2]), 'compactOutcomes.slices[0][1][3]'],
    ['two gaps in a row', at([0, 10, 3, -2, -2, 1]), 'compactOutcomes.slices[0][1][4]'],
    ['a count past the last bucket', at([0, LATENCY_BUCKETS - 1, 3, 1]), 'compactOutcomes.slices[0][1][3]'],
    ['a gap past the last bucket', at([0, 10, 3, -1e15, 1]), 'compactOutcomes.slices[0][1][4]'],
    ['calls past 2^53 - 1', at([0, 10, Number.MAX_SAFE_INTEGER, 1]), 'compactOutcomes.slices[0][1]'],
  ])('refuses the whole report for %s, naming the field', (_what, body, field) => {
    expect(violations(body).map((v) => v.field)).toContain(field);
  });

  it('bounds the slices per report as `outcomes` does', () => {
    const many = Array.from({ length: MAX_OUTCOME_SLICES + 1 }, (_, i) => [`s${i}`, 0, 0]);
    expect(violations(compact(many)).map((v) => v.field)).toEqual(['compactOutcomes.slices']);
    expect(parseSdkReport(compact(many.slice(1))).ok).toBe(true);
  });
});

/** A sparse histogram as the SDK makes one: strictly increasing buckets, positive counts. */
const histogram = fc
  .uniqueArray(fc.integer({ min: 0, max: LATENCY_BUCKETS - 1 }), { minLength: 1, maxLength: 12 })
  .chain((buckets) =>
    fc.tuple(
      fc.constant([...buckets].sort((a, b) => a - b)),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 2 ** 40 })), { minLength: buckets.length, maxLength: buckets.length }),
    ),
  )
  .map(([buckets, counts]) => buckets.map((b, i) => [b, counts[i]!] as [number, number]));
const pathFigures = fc.option(
  histogram.chain((latency) => {
    const calls = latency.reduce((n, [, c]) => n + c, 0);
    return fc.record({ calls: fc.constant(calls), failures: fc.integer({ min: 0, max: calls }), latency: fc.constant(latency) });
  }),
  { nil: undefined },
);
const key = fc.stringMatching(/^[a-z0-9][a-z0-9._:/-]{0,20}$/);
const reports = fc.uniqueArray(fc.record({ key, NEW: pathFigures, LEGACY: pathFigures }), { selector: (s) => s.key, maxLength: 8 });

type Generated = { key: string; NEW?: { calls: number; failures: number; latency: [number, number][] }; LEGACY?: { calls: number; failures: number; latency: [number, number][] } };

function asOutcomes(slices: readonly Generated[]) {
  const path = (p: Generated['NEW']) => (p === undefined ? {} : { calls: p.calls, failures: p.failures, latency: { scheme: LATENCY_SCHEME, buckets: p.latency } });
  return report({
    outcomes: Object.fromEntries(slices.map((s) => [s.key, { ...(s.NEW && { NEW: path(s.NEW) }), ...(s.LEGACY && { LEGACY: path(s.LEGACY) }) }])),
  });
}

function asCompact(slices: readonly Generated[]) {
  const path = (p: Generated['NEW']) => (p === undefined ? 0 : [p.failures, ...compactOf(p.latency)]);
  return compact(slices.map((s) => [s.key, path(s.NEW), path(s.LEGACY)]));
}

/** What the buffer would write for these reports, taken in turn (the stored figures). */
function stored(bodies: readonly unknown[]): readonly OutcomeCell[] {
  const buffer = new TrafficBuffer();
  for (const [i, body] of bodies.entries()) {
    const r = parsed(body);
    const instance: InstanceObservation = {
      protocol: 'SWITCHYARD',
      appName: `app-${i % 2}`,
      instanceId: `i-${i}`,
      sdkName: null,
      sdkVersion: null,
      revision: null,
      syncedAt: null,
      clientSpec: null,
      seenAt: 0,
      closedAt: null,
      reportIntervalMs: null,
    };
    expect(buffer.add(instance, { bucketStart: 0, slices: r.slices }, 'token', { bucketStart: 0, receivedAt: 0, outcomes: r.outcomes, comparisons: r.comparisons })).toBe(
      'accepted',
    );
  }
  return buffer.drain().outcomeCells ?? [];
}

describe('compactOutcomes against outcomes (property)', () => {
  it('gives the same parsed figures and the same stored cells for generated reports', () => {
    fc.assert(
      fc.property(fc.array(reports, { minLength: 1, maxLength: 4 }), (list) => {
        // By key: an object orders integer-like keys ("0") first, an array keeps the SDK's order.
        const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);
        for (const slices of list) {
          expect([...parsed(asCompact(slices)).outcomes].sort(byKey)).toEqual([...parsed(asOutcomes(slices)).outcomes].map(withoutEmptyPaths).sort(byKey));
        }
        expect(stored(list.map(asCompact))).toEqual(stored(list.map(asOutcomes)));
      }),
      { numRuns: 300 },
    );
  });

  const entry = fc.oneof(
    fc.integer({ min: -600, max: 600 }),
    fc.constant(0),
    fc.constant(-0),
    fc.double(),
    fc.constant(Number.MAX_SAFE_INTEGER),
    fc.constant('1'),
    fc.constant(null),
  );
  const hostilePath = fc.oneof(fc.constant(0), fc.array(entry, { maxLength: 8 }), fc.anything());

  it('either refuses generated hostile paths under compactOutcomes, or reads the one histogram they encode', () => {
    fc.assert(
      fc.property(hostilePath, hostilePath, (next, legacy) => {
        const body = JSON.parse(JSON.stringify(compact([[KEY, next, legacy]]))) as { compactOutcomes: { slices: [[string, unknown, unknown]] } };
        const result = parseSdkReport(body);
        if (!result.ok) {
          for (const v of result.violations) expect(v.field).toMatch(/^compactOutcomes/);
          return;
        }
        const slice = result.value.outcomes.get(KEY)!;
        for (const [p, sent] of [
          ['NEW', body.compactOutcomes.slices[0][1]],
          ['LEGACY', body.compactOutcomes.slices[0][2]],
        ] as const) {
          const got = slice[p];
          if (got === undefined) {
            expect(sent).toBe(0);
            continue;
          }
          // One encoding per histogram: encoding what was read gives back what was sent.
          expect([got.failures, ...compactOf(got.latency)]).toEqual(sent);
          expect(got.latency.reduce((n, [, c]) => n + c, 0)).toBe(got.calls);
          expect(got.failures).toBeLessThanOrEqual(got.calls);
          for (const [b, c] of got.latency) expect(b >= 0 && b < LATENCY_BUCKETS && c > 0).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

/** `outcomes` may carry a path with no calls (`{ calls: 0, ... }`); the compact form says 0 (absent). Neither is stored. */
function withoutEmptyPaths([key, slice]: [string, Record<string, { calls: number } | undefined>]): [string, unknown] {
  return [key, Object.fromEntries(Object.entries(slice).filter(([, p]) => p !== undefined && p.calls > 0))];
}
