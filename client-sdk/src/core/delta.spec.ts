import { diffSnapshots, patchSnapshot } from './delta.js';
import { applyDelta, compactSnapshot, compileSnapshot, definitionOf, MAX_OVERLAY, type CompiledSnapshot } from './evaluate.js';
import { jsonEqual } from './json-equal.js';
import type { SegmentDefinition, SliceDefinition, SnapshotDefinition } from './types.js';

const segment = (key: string, countries: string[]): SegmentDefinition => ({
  key,
  constraints: [{ attribute: 'country', operator: 'IN', values: countries }],
});

const slice = (key: string, over: Partial<SliceDefinition> = {}): SliceDefinition => ({
  key,
  state: 'ACTIVE',
  basisPoints: 5000,
  stickinessAttribute: 'userId',
  targeting: { include: [], exclude: [], rules: [] },
  ...over,
});

const base: SnapshotDefinition = {
  revision: 10,
  slices: [
    slice('a'),
    slice('b', { targeting: { include: ['kenya'], exclude: [], rules: [] } }),
    slice('c', { targeting: { include: [], exclude: [], rules: [{ segments: ['uganda'], basisPoints: 10000 }] } }),
  ],
  segments: [segment('kenya', ['KE']), segment('uganda', ['UG'])],
};

/** Sorted by key, so that two snapshots with the same content compare equal whatever their order. */
const normalized = (def: SnapshotDefinition) => ({
  revision: def.revision,
  slices: [...def.slices].sort((x, y) => x.key.localeCompare(y.key)),
  segments: [...def.segments].sort((x, y) => x.key.localeCompare(y.key)),
});

describe('diffSnapshots / patchSnapshot', () => {
  it('carries only what changed, and patching gives the next snapshot back', () => {
    const next: SnapshotDefinition = {
      revision: 12,
      slices: [slice('a', { state: 'ROLLED_BACK' }), base.slices[1]!, slice('d')],
      segments: [segment('kenya', ['KE', 'TZ'])],
    };
    const delta = diffSnapshots(base, next);
    expect(delta).toEqual({
      revision: 12,
      baseRevision: 10,
      slices: [slice('a', { state: 'ROLLED_BACK' }), slice('d')],
      removedSlices: ['c'],
      segments: [segment('kenya', ['KE', 'TZ'])],
      removedSegments: ['uganda'],
    });
    expect(normalized(patchSnapshot(base, JSON.parse(JSON.stringify(delta))))).toEqual(normalized(next));
  });

  it('keeps unchanged definitions as the same objects', () => {
    const next = { ...base, revision: 11, slices: [slice('a', { basisPoints: 0 }), ...base.slices.slice(1)] };
    const patched = patchSnapshot(base, JSON.parse(JSON.stringify(diffSnapshots(base, next))));
    expect(patched.slices[0]).not.toBe(base.slices[0]);
    expect(patched.slices[1]).toBe(base.slices[1]);
    expect(patched.slices[2]).toBe(base.slices[2]);
    expect(patched.segments).toEqual(base.segments);
    expect(patched.segments[0]).toBe(base.segments[0]);
  });

  it('is empty between equal snapshots', () => {
    const delta = diffSnapshots(base, { ...(JSON.parse(JSON.stringify(base)) as SnapshotDefinition), revision: 11 });
    expect([delta.slices, delta.removedSlices, delta.segments, delta.removedSegments]).toEqual([[], [], [], []]);
  });

  it.each([
    ['not an object', null],
    ['another base revision', { revision: 12, baseRevision: 9, slices: [], removedSlices: [], segments: [], removedSegments: [] }],
    ['no step forward', { revision: 10, baseRevision: 10, slices: [], removedSlices: [], segments: [], removedSegments: [] }],
    ['lists missing', { revision: 11, baseRevision: 10 }],
    ['a slice without a key', { revision: 11, baseRevision: 10, slices: [{ state: 'ACTIVE' }], removedSlices: [], segments: [], removedSegments: [] }],
    ['a key changed and removed', { revision: 11, baseRevision: 10, slices: [slice('a')], removedSlices: ['a'], segments: [], removedSegments: [] }],
    ['a key twice', { revision: 11, baseRevision: 10, slices: [], removedSlices: [], segments: [segment('x', []), segment('x', [])], removedSegments: [] }],
    ['a removed key that is not a string', { revision: 11, baseRevision: 10, slices: [], removedSlices: [1], segments: [], removedSegments: [] }],
  ])('refuses a delta with %s (TypeError)', (_name, delta) => {
    expect(() => patchSnapshot(base, delta)).toThrow(TypeError);
  });
});

describe('applyDelta', () => {
  const contexts = Array.from({ length: 400 }, (_, i) => ({ userId: `u${i}`, country: ['KE', 'UG', 'TZ', 'NG'][i % 4]! }));
  const decisions = (def: SnapshotDefinition, compiled = compileSnapshot(def)) =>
    [...def.slices.map((s) => s.key), 'missing'].flatMap((key) => contexts.map((c) => compiled.explain(key, c)));
  /** The slices whose decisions differ anywhere between two snapshots (what changedSlices must include). */
  const differing = (a: SnapshotDefinition, b: SnapshotDefinition) => {
    const ca = compileSnapshot(a);
    const cb = compileSnapshot(b);
    const keys = new Set([...a.slices, ...b.slices].map((s) => s.key));
    return [...keys].filter((key) => contexts.some((c) => !jsonEqual(ca.explain(key, c), cb.explain(key, c))));
  };
  const wire = (base: SnapshotDefinition, next: SnapshotDefinition) => JSON.parse(JSON.stringify(diffSnapshots(base, next))) as unknown;

  it('decides exactly as a full compile after every kind of change, and names what changed', () => {
    const previous = compileSnapshot(base);
    const withE = { revision: 11, slices: [...base.slices, slice('e', { targeting: { include: ['nigeria'], exclude: [], rules: [] } })], segments: base.segments };
    const cases: [SnapshotDefinition, SnapshotDefinition, string[]][] = [
      // a segment changes: the slices naming it are recompiled and reported
      [base, { ...base, revision: 11, segments: [segment('kenya', ['TZ']), base.segments[1]!] }, ['b']],
      // a segment disappears: a rule through it applies to no one
      [base, { ...base, revision: 11, segments: [base.segments[0]!] }, ['c']],
      // a segment appears that a slice named while it was missing
      [withE, { ...withE, revision: 12, segments: [...base.segments, segment('nigeria', ['NG'])] }, ['e']],
      // a slice rolls back, another moves, one goes, one comes
      [
        base,
        {
          revision: 11,
          slices: [slice('a', { state: 'ROLLED_BACK' }), slice('b', { basisPoints: 100, targeting: base.slices[1]!.targeting }), slice('f')],
          segments: base.segments,
        },
        ['a', 'b', 'c', 'f'],
      ],
    ];
    for (const [from, next, expected] of cases) {
      const { snapshot, changedSlices } = applyDelta(from === base ? previous : compileSnapshot(from), wire(from, next));
      expect(snapshot.revision).toBe(next.revision);
      expect(decisions(next, snapshot)).toEqual(decisions(next));
      expect(changedSlices).toEqual(expected);
      expect(normalized(definitionOf(snapshot))).toEqual(normalized(next));
    }
  });

  it('decides exactly as a full compile over random sequences of changes, reporting every slice that decides differently', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const keys = ['kenya', 'uganda', 'tanzania', 'nigeria'];
    const randomSlice = (key: string) =>
      slice(key, {
        state: random(6) === 0 ? 'ROLLED_BACK' : 'ACTIVE',
        basisPoints: random(10001),
        targeting: {
          include: random(3) === 0 ? [keys[random(4)]!] : [],
          exclude: random(4) === 0 ? [keys[random(4)]!] : [],
          rules: random(2) === 0 ? [{ segments: [keys[random(4)]!], basisPoints: random(10001) }] : [],
        },
      });
    let def: SnapshotDefinition = base;
    let compiled = compileSnapshot(def);
    for (let step = 0; step < 60; step++) {
      const slices = ['a', 'b', 'c', 'd', 'e']
        .filter(() => random(5) !== 0)
        .map((key) => (random(3) === 0 ? randomSlice(key) : (def.slices.find((s) => s.key === key) ?? randomSlice(key))));
      const segments = keys
        .filter(() => random(4) !== 0)
        .map((key) => (random(3) === 0 ? segment(key, [['KE', 'UG', 'TZ', 'NG'][random(4)]!]) : (def.segments.find((s) => s.key === key) ?? segment(key, ['NG']))));
      const next: SnapshotDefinition = { revision: def.revision + 1, slices, segments };
      const delta = wire(def, next);
      expect(jsonEqual(normalized(patchSnapshot(def, delta)), normalized(next))).toBe(true);
      const applied = applyDelta(compiled, delta);
      expect(decisions(next, applied.snapshot)).toEqual(decisions(next));
      for (const key of differing(def, next)) expect(applied.changedSlices).toContain(key);
      compiled = random(3) === 0 ? compactSnapshot(applied.snapshot) : applied.snapshot;
      def = next;
    }
  });

  it('stays exact across more changes than its overlay holds, and compacted', () => {
    const many: SnapshotDefinition = { revision: 1, slices: Array.from({ length: 100 }, (_, i) => slice(`s${i}`, { basisPoints: i * 100 })), segments: base.segments };
    let def = many;
    let compiled = compileSnapshot(many);
    // Each delta changes one more slice: the overlay passes MAX_OVERLAY and is folded on the way.
    for (let step = 0; step < MAX_OVERLAY + 16; step++) {
      const next: SnapshotDefinition = { ...def, revision: def.revision + 1, slices: def.slices.map((s, i) => (i === step ? { ...s, state: 'ROLLED_BACK' as const } : s)) };
      compiled = applyDelta(compiled, wire(def, next)).snapshot;
      def = next;
      if (step % 10 === 0) expect(decisions(def, compiled)).toEqual(decisions(def));
    }
    expect(decisions(def, compiled)).toEqual(decisions(def));
    const compacted = compactSnapshot(compiled);
    expect(decisions(def, compacted)).toEqual(decisions(def));
    expect(normalized(definitionOf(compacted))).toEqual(normalized(def));
    expect(compactSnapshot(compacted)).toBe(compacted);
  });

  it('refuses a delta for another revision, and a snapshot it did not compile (TypeError)', () => {
    const previous = compileSnapshot(base);
    expect(() => applyDelta(previous, { revision: 12, baseRevision: 11, slices: [], removedSlices: [], segments: [], removedSegments: [] })).toThrow(TypeError);
    const foreign = {
      revision: 10,
      hasSlice: () => false,
      explain: () => ({ path: 'LEGACY', reason: 'ERROR' }),
      decide: () => 'LEGACY',
      stickinessAttribute: () => undefined,
    } as unknown as CompiledSnapshot;
    expect(() => applyDelta(foreign, { revision: 11, baseRevision: 10, slices: [], removedSlices: [], segments: [], removedSegments: [] })).toThrow(TypeError);
  });
});
