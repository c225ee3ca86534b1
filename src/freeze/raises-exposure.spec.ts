import fc from 'fast-check';
import { evaluateSlice, type SegmentDefinition } from '@switchyard/client-sdk/core';
import type { SliceRecord } from '../slices/slice-record.js';
import { raisesExposure } from './raises-exposure.js';

const SEGMENTS = ['s0', 's1', 's2', 's3'];
// Segment sK holds the subjects whose attribute mK is "1".
const DEFINITIONS: SegmentDefinition[] = SEGMENTS.map((key, k) => ({ key, constraints: [{ attribute: `m${k}`, operator: 'IN', values: ['1'] }] }));

const bp = fc.constantFrom(0, 1, 500, 2500, 5000, 9999, 10000);
const keys = fc.subarray(SEGMENTS);
interface Gen {
  state: SliceRecord['state'];
  stickinessAttribute: string;
  basisPoints: number;
  include: string[];
  exclude: string[];
  rules: { segments: string[]; basisPoints: number }[];
  rolledBackSegments?: string[];
}
interface Subject {
  userId: string;
  accountId: string;
  memberships: boolean[];
}

const record: fc.Arbitrary<Gen> = fc.record({
  state: fc.constantFrom('ACTIVE' as const, 'ACTIVE' as const, 'ROLLED_BACK' as const, 'ARCHIVED' as const),
  stickinessAttribute: fc.constantFrom('userId', 'accountId'),
  basisPoints: bp,
  include: keys,
  exclude: keys,
  rules: fc.array(fc.record({ segments: fc.subarray(SEGMENTS, { minLength: 1 }), basisPoints: bp }), { maxLength: 3 }),
  rolledBackSegments: keys,
});
const subject: fc.Arbitrary<Subject> = fc.record({
  userId: fc.string({ maxLength: 6 }),
  accountId: fc.string({ maxLength: 6 }),
  memberships: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
});

function toSlice(v: Gen): SliceRecord {
  return {
    key: 'payments.provider.mpesa',
    description: '',
    owner: '',
    tags: [],
    stickinessAttribute: v.stickinessAttribute,
    basisPoints: v.basisPoints,
    targeting: { include: v.include, exclude: v.exclude, rules: v.rules },
    state: v.state,
    ...(v.rolledBackSegments !== undefined && v.rolledBackSegments.length > 0 ? { rolledBackSegments: v.rolledBackSegments } : {}),
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** A change that lowers: each knob moved only towards LEGACY. */
function lowered(r: SliceRecord, cut: number, drop: number): SliceRecord {
  return {
    ...r,
    basisPoints: Math.floor(r.basisPoints * cut),
    targeting: {
      include: r.targeting.include.slice(drop),
      exclude: [...new Set([...r.targeting.exclude, ...SEGMENTS.slice(0, drop)])],
      rules: r.targeting.rules.map((rule) => ({ ...rule, basisPoints: Math.floor(rule.basisPoints * cut) })),
    },
  };
}

describe('raisesExposure', () => {
  const onNew = (r: SliceRecord, v: Subject) => {
    const context = { userId: v.userId, accountId: v.accountId, ...Object.fromEntries(v.memberships.map((m, k) => [`m${k}`, m ? '1' : '0'])) };
    return evaluateSlice(r, DEFINITIONS, context).path === 'NEW';
  };

  it('never says "does not raise" when the decision core puts someone on NEW who was not', () => {
    fc.assert(
      fc.property(
        record,
        record,
        fc.boolean(),
        fc.constantFrom(0, 0.5, 1),
        fc.integer({ min: 0, max: 4 }),
        fc.array(subject, { minLength: 1, maxLength: 30 }),
        (a, b, lower, cut, drop, subjects) => {
          const current = toSlice(a);
          // Half the time a lowering of the current configuration: "does not raise" is then tested for real.
          const next = lower ? lowered(current, cut, drop) : toSlice(b);
          if (raisesExposure(current, next)) return;
          for (const s of subjects) if (onNew(next, s)) expect(onNew(current, s)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('lets every lowering change through, and archive', () => {
    fc.assert(
      fc.property(record, fc.constantFrom(0, 0.5, 1), fc.integer({ min: 0, max: 4 }), (a, cut, drop) => {
        const current = { ...toSlice(a), state: 'ACTIVE' as const };
        expect(raisesExposure(current, lowered(current, cut, drop))).toBe(false);
        expect(raisesExposure(current, { ...current, state: 'ARCHIVED' })).toBe(false);
      }),
    );
  });

  it('raises on a higher percentage, a new include, resume with anyone exposed, a changed stickiness attribute', () => {
    const base = toSlice({ state: 'ACTIVE', stickinessAttribute: 'userId', basisPoints: 500, include: [], exclude: ['s1'], rules: [] });
    expect(raisesExposure(base, { ...base, basisPoints: 501 })).toBe(true);
    expect(raisesExposure(base, { ...base, targeting: { ...base.targeting, include: ['s0'] } })).toBe(true);
    expect(raisesExposure(base, { ...base, targeting: { ...base.targeting, exclude: [] } })).toBe(true);
    expect(raisesExposure({ ...base, state: 'ROLLED_BACK' }, base)).toBe(true);
    expect(raisesExposure({ ...base, state: 'ROLLED_BACK', basisPoints: 0 }, { ...base, basisPoints: 0 })).toBe(false);
    expect(raisesExposure(base, { ...base, stickinessAttribute: 'accountId' })).toBe(true);
  });

  it('lets a segment rollback through and raises on resumeSegment (docs/segment-rollback.md)', () => {
    fc.assert(
      fc.property(record, keys, keys, fc.array(subject, { minLength: 1, maxLength: 30 }), (a, was, added, subjects) => {
        const current: SliceRecord = { ...toSlice({ ...a, rolledBackSegments: was }), state: 'ACTIVE' };
        const more = [...new Set([...was, ...added])].sort();
        const next: SliceRecord = { ...current, ...(more.length > 0 ? { rolledBackSegments: more } : {}) };
        expect(raisesExposure(current, next)).toBe(false);
        for (const s of subjects) if (onNew(next, s)) expect(onNew(current, s)).toBe(true);
      }),
    );
    const base = toSlice({ state: 'ACTIVE', stickinessAttribute: 'userId', basisPoints: 500, include: [], exclude: [], rules: [] });
    expect(raisesExposure({ ...base, rolledBackSegments: ['s0'] }, base)).toBe(true);
    expect(raisesExposure({ ...base, rolledBackSegments: ['s0', 's1'] }, { ...base, rolledBackSegments: ['s1'] })).toBe(true);
    expect(raisesExposure(base, { ...base, rolledBackSegments: ['s0'] })).toBe(false);
  });
});
