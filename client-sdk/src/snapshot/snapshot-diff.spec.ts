import type { SegmentDefinition, SliceDefinition, SnapshotDefinition } from '../core/index.js';
import { jsonEqual } from '../core/index.js';
import { changedSlices } from './snapshot-diff.js';

const segment = (key: string, values: string[]): SegmentDefinition => ({
  key,
  constraints: [{ attribute: 'userId', operator: 'IN', values, inverted: false, caseInsensitive: false }],
});

const slice = (key: string, basisPoints: number, targeting: Partial<SliceDefinition['targeting']> = {}): SliceDefinition => ({
  key,
  state: 'ACTIVE',
  basisPoints,
  stickinessAttribute: 'userId',
  targeting: { include: [], exclude: [], rules: [], ...targeting },
});

const snapshot = (revision: number, slices: readonly SliceDefinition[], segments: readonly SegmentDefinition[] = []): SnapshotDefinition => ({ revision, slices, segments });

describe('changedSlices', () => {
  const base = snapshot(
    1,
    [slice('a', 100), slice('b', 200, { include: ['staff'] }), slice('c', 300, { rules: [{ segments: ['kenya'], basisPoints: 50 }] }), slice('d', 0, { exclude: ['vip'] })],
    [segment('staff', ['alice']), segment('kenya', ['k1']), segment('vip', ['v1'])],
  );

  it('lists every slice when there was no snapshot before', () => {
    expect(changedSlices(null, base)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lists nothing for an identical snapshot at another revision, whatever the key order', () => {
    const reordered = JSON.parse(JSON.stringify({ ...base, revision: 2 }), (_key, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    ) as SnapshotDefinition;
    expect(changedSlices(base, reordered)).toEqual([]);
  });

  it('lists added, removed and changed slices', () => {
    const next = snapshot(
      2,
      [slice('a', 150), slice('b', 200, { include: ['staff'] }), slice('c', 300, { rules: [{ segments: ['kenya'], basisPoints: 50 }] }), slice('e', 0)],
      base.segments,
    );
    expect(changedSlices(base, next)).toEqual(['a', 'd', 'e']);
  });

  it('lists the slices using a changed segment, through include, exclude or a rule', () => {
    const next = snapshot(2, base.slices, [segment('staff', ['alice', 'bob']), segment('kenya', ['k2']), segment('vip', ['v1'])]);
    expect(changedSlices(base, next)).toEqual(['b', 'c']);
    const vipGone = snapshot(3, base.slices, [segment('staff', ['alice']), segment('kenya', ['k1'])]);
    expect(changedSlices(base, vipGone)).toEqual(['d']);
  });

  it('tolerates malformed targeting', () => {
    const odd = { ...slice('x', 1), targeting: null } as unknown as SliceDefinition;
    const next = snapshot(2, [...base.slices, odd], [segment('staff', ['z'])]);
    expect(changedSlices(base, next)).toEqual(['b', 'c', 'd', 'x']);
  });
});

describe('jsonEqual', () => {
  it.each([
    [1, 1, true],
    ['a', 'b', false],
    [null, null, true],
    [null, {}, false],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[], {}, false],
    [{ a: 1, b: [1] }, { b: [1], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [{ a: undefined }, { b: undefined }, false],
  ])('%j vs %j: %s', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});
