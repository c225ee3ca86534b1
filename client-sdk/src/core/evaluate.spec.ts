import murmurhash3js from 'murmurhash3js';
import { applyDelta, compileSnapshot, ERROR_DECISION, evaluateSlice } from './evaluate.js';
import { diffSnapshots } from './delta.js';
import type { EvaluationContext, SegmentDefinition, SliceDefinition, SnapshotDefinition } from './types.js';

/** Position by the DESIGN.md formula over an independent hash (ASCII ids only). */
const oraclePosition = (sliceKey: string, id: string) => {
  const h = murmurhash3js.x86.hash32(`${sliceKey}:${id}`);
  return (h % 100) * 100 + (Math.floor(h / 100) % 100);
};
/** First ASCII id whose position satisfies `accept`. */
const findId = (sliceKey: string, accept: (position: number) => boolean) => {
  for (let i = 0; ; i++) if (accept(oraclePosition(sliceKey, `u${i}`))) return `u${i}`;
};

const segments: SegmentDefinition[] = [
  { key: 'staff', constraints: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.dev'] }] },
  { key: 'kenya', constraints: [{ attribute: 'country', operator: 'IN', values: ['KE'] }] },
  { key: 'salary-run', constraints: [{ attribute: 'accountId', operator: 'IN', values: ['acc-1', 'acc-2', 'acc-3'] }] },
  { key: 'new-app', constraints: [{ attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['2.3.0'] }] },
];

const slice = (over: Partial<SliceDefinition> = {}): SliceDefinition => ({
  key: 'payments.provider.mpesa',
  state: 'ACTIVE',
  basisPoints: 500,
  stickinessAttribute: 'userId',
  targeting: {
    include: ['staff'],
    exclude: ['salary-run'],
    rules: [
      { segments: ['kenya', 'new-app'], basisPoints: 10000 },
      { segments: ['kenya'], basisPoints: 2000 },
    ],
  },
  ...over,
});

const snapshot = (slices: SliceDefinition[], segs = segments, revision = 7) => compileSnapshot({ revision, slices, segments: segs });

describe('compileSnapshot / explain: the decision rule', () => {
  const sut = snapshot([slice(), slice({ key: 'rolled', state: 'ROLLED_BACK', basisPoints: 10000 }), slice({ key: 'archived', state: 'ARCHIVED', basisPoints: 10000 })]);
  const key = 'payments.provider.mpesa';

  it('exposes the revision and the slices it knows', () => {
    expect(sut.revision).toBe(7);
    expect(sut.hasSlice(key)).toBe(true);
    expect(sut.hasSlice('rolled')).toBe(true);
    expect(sut.hasSlice('nope')).toBe(false);
  });

  it('1. unknown, rolled back and archived slices go to LEGACY whatever the targeting', () => {
    const staff = { userId: 'u1', email: 'a@switchyard.dev' };
    expect(sut.explain('nope', staff)).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
    expect(sut.explain('rolled', staff)).toEqual({ path: 'LEGACY', reason: 'ROLLED_BACK' });
    expect(sut.explain('archived', staff)).toEqual({ path: 'LEGACY', reason: 'ARCHIVED' });
  });

  it('2. exclude wins, even over include and a 100 % rule', () => {
    const ctx = { userId: 'u1', accountId: 'acc-2', email: 'cfo@switchyard.dev', country: 'KE', appVersion: '3.0.0' };
    expect(sut.explain(key, ctx)).toEqual({ path: 'LEGACY', reason: 'EXCLUDED' });
  });

  it('3. include sends to NEW without an id', () => {
    expect(sut.explain(key, { email: 'dev@switchyard.dev' })).toEqual({ path: 'NEW', reason: 'INCLUDED' });
  });

  it('4. the first rule whose segments all match gives the share', () => {
    // Kenya + new app: rule 0 (100 %), before rule 1 which also matches.
    expect(sut.explain(key, { country: 'KE', appVersion: '2.3.0' })).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });
    // Kenya + old app: rule 0 fails on one segment, rule 1 applies (20 %).
    const inside = findId(key, (p) => p < 2000);
    const outside = findId(key, (p) => p >= 2000);
    expect(sut.explain(key, { userId: inside, country: 'KE', appVersion: '2.2.9' })).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 1 });
    expect(sut.explain(key, { userId: outside, country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'RULE', ruleIndex: 1 });
  });

  it('4–6. no rule matches: the slice rollout decides, by position', () => {
    const inside = findId(key, (p) => p < 500);
    const outside = findId(key, (p) => p >= 500);
    expect(sut.explain(key, { userId: inside, country: 'GH' })).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
    expect(sut.explain(key, { userId: outside, country: 'GH' })).toEqual({ path: 'LEGACY', reason: 'ROLLOUT' });
  });

  it('5. a partial share needs the stickiness value: missing or empty → NO_STICKINESS, even under a rule', () => {
    expect(sut.explain(key, { country: 'GH' })).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
    expect(sut.explain(key, { userId: '', country: 'GH' })).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
    expect(sut.explain(key, { userId: 42 } as unknown as EvaluationContext)).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
    expect(sut.explain(key, { country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
  });

  it('5. 0 and 10000 basis points need no id, and keep their reason', () => {
    const zero = snapshot([slice({ basisPoints: 0, targeting: { include: [], exclude: [], rules: [{ segments: ['kenya'], basisPoints: 0 }] } })]);
    expect(zero.explain(key, {})).toEqual({ path: 'LEGACY', reason: 'ROLLOUT' });
    expect(zero.explain(key, { country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'RULE', ruleIndex: 0 });
    const full = snapshot([slice({ basisPoints: 10000, targeting: { include: [], exclude: [], rules: [] } })]);
    expect(full.explain(key, {})).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
  });

  it('uses the slice stickiness attribute', () => {
    const byAccount = snapshot([slice({ stickinessAttribute: 'accountId', basisPoints: 5000 })]);
    const inside = findId(key, (p) => p < 5000);
    expect(byAccount.explain(key, { accountId: inside })).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
    expect(byAccount.explain(key, { userId: inside })).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
  });

  it('decide returns the path only', () => {
    expect(sut.decide(key, { email: 'dev@switchyard.dev' })).toBe('NEW');
    expect(sut.decide('nope', {})).toBe('LEGACY');
  });

  it('passes the decision time to currentTime date constraints', () => {
    const launch: SegmentDefinition = { key: 'after-launch', constraints: [{ attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2024-03-01T00:00:00Z'] }] };
    const s = snapshot([slice({ targeting: { include: ['after-launch'], exclude: [], rules: [] } })], [launch]);
    expect(s.explain(key, {}, Date.parse('2024-03-01T00:00:01Z')).reason).toBe('INCLUDED');
    expect(s.explain(key, {}, Date.parse('2024-02-29T23:59:59Z')).reason).toBe('NO_STICKINESS');
    expect(s.explain(key, {}).reason).toBe('INCLUDED'); // defaults to Date.now(), which is after 2024
  });
});

describe('missing segments match nobody', () => {
  const key = 'payments.provider.mpesa';
  const sut = snapshot([
    slice({
      basisPoints: 0,
      targeting: {
        include: ['ghost'],
        exclude: ['ghost'],
        rules: [
          { segments: ['ghost'], basisPoints: 10000 },
          { segments: [], basisPoints: 10000 },
        ],
      },
    }),
  ]);

  it('an include or exclude through a missing segment applies to no one; a rule through it never applies', () => {
    // Rule 1 has no segments: it matches everyone (all of none), so it is the one that applies.
    expect(sut.explain(key, { userId: 'u1' })).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 1 });
  });
});

describe('never throws', () => {
  const key = 'payments.provider.mpesa';
  const sut = snapshot([slice()]);
  const hostile = new Proxy(
    {},
    {
      get: () => {
        throw new Error('boom');
      },
    },
  );

  it.each([null, undefined, 42, 'userId=1', true, [], () => 1, Symbol('x')])('treats context %p as empty', (context) => {
    expect(sut.explain(key, context as unknown as EvaluationContext)).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
  });

  it('answers ERROR when reading the context throws', () => {
    expect(sut.explain(key, hostile as EvaluationContext)).toBe(ERROR_DECISION);
    expect(ERROR_DECISION).toEqual({ path: 'LEGACY', reason: 'ERROR' });
    expect(sut.decide(key, hostile as EvaluationContext)).toBe('LEGACY');
  });

  it('answers UNKNOWN_SLICE for a non-string slice key', () => {
    for (const k of [undefined, null, 42, {}]) {
      expect(sut.explain(k as string, {})).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
    }
  });

  it('answers ERROR for an ACTIVE slice that is not well-formed, but still honours rollback', () => {
    const bad: Partial<SliceDefinition>[] = [
      { basisPoints: 10001 },
      { basisPoints: 12.5 },
      { basisPoints: Number.NaN },
      { state: 'PAUSED' as SliceDefinition['state'] },
      { stickinessAttribute: '' },
      { targeting: { include: [], exclude: 'x' as unknown as string[], rules: [] } },
      { targeting: { include: [], exclude: [], rules: [{ segments: ['kenya'], basisPoints: -1 }] } },
      { targeting: { include: [7 as unknown as string], exclude: [], rules: [] } },
      { targeting: undefined },
    ];
    for (const over of bad) {
      expect(snapshot([slice(over)]).explain(key, { userId: 'u1', email: 'a@switchyard.dev' })).toEqual({ path: 'LEGACY', reason: 'ERROR' });
    }
    expect(snapshot([slice({ basisPoints: 10001, state: 'ROLLED_BACK' })]).explain(key, {})).toEqual({ path: 'LEGACY', reason: 'ROLLED_BACK' });
  });

  it('compileSnapshot throws TypeError only for a definition not shaped like a snapshot', () => {
    const bad: unknown[] = [
      null,
      {},
      { revision: 1, slices: [], segments: null },
      { revision: 1, slices: {}, segments: [] },
      { revision: '1', slices: [], segments: [] },
      { revision: 1, slices: [slice(), slice()], segments: [] },
      { revision: 1, slices: [], segments: [segments[0], segments[0]] },
      { revision: 1, slices: [{ key: 5 }], segments: [] },
    ];
    for (const def of bad) expect(() => compileSnapshot(def as SnapshotDefinition)).toThrow(TypeError);
  });

  it('evaluateSlice never throws', () => {
    expect(evaluateSlice(null as unknown as SliceDefinition, [], {})).toEqual({ path: 'LEGACY', reason: 'ERROR' });
    expect(evaluateSlice(slice(), null as unknown as SegmentDefinition[], {})).toEqual({ path: 'LEGACY', reason: 'ERROR' });
    expect(evaluateSlice(slice(), segments, { email: 'x@switchyard.dev' })).toEqual({ path: 'NEW', reason: 'INCLUDED' });
  });
});

describe('hot path', () => {
  it('returns shared, frozen decisions (no result object per call)', () => {
    const sut = snapshot([slice()]);
    const ctx = { userId: 'u1', country: 'KE' };
    const first = sut.explain('payments.provider.mpesa', ctx);
    expect(sut.explain('payments.provider.mpesa', { ...ctx })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('does not read a snapshot definition after compiling it', () => {
    const def = { revision: 1, slices: [slice({ basisPoints: 10000, targeting: { include: [], exclude: [], rules: [] } })], segments: [] };
    const sut = compileSnapshot(def);
    def.slices.length = 0;
    expect(sut.explain('payments.provider.mpesa', {})).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
  });

  it('answers for whichever slice is asked, whatever was asked before (the last-slice memo)', () => {
    // Slices that answer differently for the same context, asked in every order, with keys that
    // are equal strings but not the same object, unknown keys and non-strings in between; and the
    // same through a delta's overlay, whose memo is its own.
    const a = slice({ key: 'a', basisPoints: 10000, targeting: { include: [], exclude: [], rules: [] } });
    const b = slice({ key: 'b', basisPoints: 0, targeting: { include: [], exclude: [], rules: [] } });
    const sut = snapshot([a, b]);
    const changed = applyDelta(sut, diffSnapshots({ revision: 7, slices: [a, b], segments }, { revision: 8, slices: [{ ...a, state: 'ROLLED_BACK' }, b], segments })).snapshot;
    const keys: unknown[] = ['a', 'b', ['a'].join(''), 'zz', undefined, 'a', 7, 'b', 'a', '', 'b'];
    const expected = (s: typeof sut, key: unknown) => (key === 'a' ? (s === sut ? 'ROLLOUT' : 'ROLLED_BACK') : key === 'b' ? 'ROLLOUT' : 'UNKNOWN_SLICE');
    for (const s of [sut, changed, sut]) {
      for (const key of keys) {
        const decision = s.explain(key as string, { userId: 'u1' });
        expect([key, decision.reason]).toEqual([key, expected(s, key)]);
        if (key === 'a') expect(decision.path).toBe(s === sut ? 'NEW' : 'LEGACY');
      }
    }
  });
});

describe('observation settings (docs/outcomes.md)', () => {
  const observed = (over: Partial<SliceDefinition>): SnapshotDefinition => ({ revision: 1, slices: [slice(over)], segments });

  it('reads watched and shadowBasisPoints, and never lets them change a decision', () => {
    const plain = compileSnapshot(observed({}));
    const set = compileSnapshot(observed({ watched: true, shadowBasisPoints: 2_500 }));
    expect([plain.isWatched('payments.provider.mpesa'), plain.shadowBasisPoints('payments.provider.mpesa')]).toEqual([false, 0]);
    expect([set.isWatched('payments.provider.mpesa'), set.shadowBasisPoints('payments.provider.mpesa')]).toEqual([true, 2_500]);
    expect([set.isWatched('unknown'), set.shadowBasisPoints('unknown')]).toEqual([false, 0]);
    for (let i = 0; i < 500; i++) {
      const context = { userId: `u${i}`, country: i % 2 === 0 ? 'KE' : 'GH' };
      expect(set.explain('payments.provider.mpesa', context)).toEqual(plain.explain('payments.provider.mpesa', context));
    }
  });

  it('turns off a setting that is not valid, without making the slice malformed', () => {
    for (const bad of [-1, 10_001, 1.5, Number.NaN, '5000', null]) {
      const compiled = compileSnapshot(observed({ shadowBasisPoints: bad as number, watched: 'yes' as unknown as true }));
      expect(compiled.shadowBasisPoints('payments.provider.mpesa')).toBe(0);
      expect(compiled.isWatched('payments.provider.mpesa')).toBe(false);
      expect(compiled.explain('payments.provider.mpesa', { userId: 'u1' }).reason).not.toBe('ERROR');
    }
  });

  it('follows a delta that sets or clears them', () => {
    const before = observed({});
    const after: SnapshotDefinition = { ...observed({ watched: true, shadowBasisPoints: 10_000 }), revision: 2 };
    const { snapshot } = applyDelta(compileSnapshot(before), diffSnapshots(before, after));
    expect([snapshot.isWatched('payments.provider.mpesa'), snapshot.shadowBasisPoints('payments.provider.mpesa')]).toEqual([true, 10_000]);
    const back = applyDelta(snapshot, diffSnapshots(after, { ...before, revision: 3 })).snapshot;
    expect([back.isWatched('payments.provider.mpesa'), back.shadowBasisPoints('payments.provider.mpesa')]).toEqual([false, 0]);
  });
});

describe('rolled-back segments (docs/segment-rollback.md)', () => {
  const countries = ['KE', 'GH', 'UG', ''];
  const subjects: EvaluationContext[] = [];
  for (let i = 0; i < 400; i++) {
    subjects.push({
      userId: i % 17 === 0 ? '' : `u${i}`,
      country: countries[i % countries.length],
      appVersion: i % 3 === 0 ? '2.3.0' : '2.2.0',
      ...(i % 5 === 0 ? { email: `p${i}@switchyard.dev` } : {}),
      ...(i % 7 === 0 ? { accountId: 'acc-1' } : {}),
    });
  }
  const pick = <T>(list: readonly T[], mask: number) => list.filter((_, k) => (mask >> k) & 1);

  it('sends exactly the subjects of the rolled-back segments to LEGACY, and leaves every other decision as it was', () => {
    const keys = segments.map((s) => s.key).concat('ghost');
    for (let mask = 0; mask < 1 << keys.length; mask++) {
      const rolledBack = pick(keys, mask);
      const before = snapshot([slice()]);
      const after = snapshot([slice({ rolledBackSegments: rolledBack })]);
      const members = segments
        .filter((s) => rolledBack.includes(s.key))
        .map((s) => snapshot([slice({ key: 'm', basisPoints: 10000, targeting: { include: [], exclude: [], rules: [{ segments: [s.key], basisPoints: 10000 }] } })]));
      for (const ctx of subjects) {
        const inRolledBack = members.some((m) => m.explain('m', ctx).reason === 'RULE');
        const decision = after.explain('payments.provider.mpesa', ctx);
        if (inRolledBack) expect(decision).toEqual({ path: 'LEGACY', reason: 'SEGMENT_ROLLED_BACK' });
        else expect(decision).toEqual(before.explain('payments.provider.mpesa', ctx));
      }
    }
  });

  it('comes after a whole-slice rollback or archive, and an absent or empty list changes nothing', () => {
    const ctx = { userId: 'u1', country: 'KE' };
    expect(snapshot([slice({ state: 'ROLLED_BACK', rolledBackSegments: ['kenya'] })]).explain('payments.provider.mpesa', ctx).reason).toBe('ROLLED_BACK');
    expect(snapshot([slice({ state: 'ARCHIVED', rolledBackSegments: ['kenya'] })]).explain('payments.provider.mpesa', ctx).reason).toBe('ARCHIVED');
    expect(snapshot([slice({ rolledBackSegments: [] })]).explain('payments.provider.mpesa', ctx)).toEqual(snapshot([slice()]).explain('payments.provider.mpesa', ctx));
  });

  it('decides ERROR for a slice whose rolledBackSegments is not a list of keys', () => {
    for (const bad of ['kenya', [1], null, {}]) {
      const def = { ...slice(), rolledBackSegments: bad } as unknown as SliceDefinition;
      expect(snapshot([def]).explain('payments.provider.mpesa', { userId: 'u1' })).toEqual(ERROR_DECISION);
    }
  });

  it('follows a delta that rolls a segment back or lifts it, and a change of the rolled-back segment', () => {
    const base: SnapshotDefinition = { revision: 1, slices: [slice()], segments };
    const rolled: SnapshotDefinition = { revision: 2, slices: [slice({ rolledBackSegments: ['kenya'] })], segments };
    const ctx = { userId: 'u1', country: 'KE', appVersion: '2.3.0' };
    const one = applyDelta(compileSnapshot(base), diffSnapshots(base, rolled));
    expect(one.changedSlices).toEqual(['payments.provider.mpesa']);
    expect(one.snapshot.explain('payments.provider.mpesa', ctx).reason).toBe('SEGMENT_ROLLED_BACK');
    // Kenya redefined as GH: the KE subject is out of the rolled-back segment, the slice recompiled.
    const moved: SnapshotDefinition = {
      ...rolled,
      revision: 3,
      segments: segments.map((s) => (s.key === 'kenya' ? { key: 'kenya', constraints: [{ attribute: 'country', operator: 'IN', values: ['GH'] }] } : s)),
    };
    const two = applyDelta(one.snapshot, diffSnapshots(rolled, moved));
    expect(two.changedSlices).toEqual(['payments.provider.mpesa']);
    expect(two.snapshot.explain('payments.provider.mpesa', ctx)).toEqual({ path: 'LEGACY', reason: 'ROLLOUT' });
    expect(two.snapshot.explain('payments.provider.mpesa', { userId: 'u1', country: 'GH' }).reason).toBe('SEGMENT_ROLLED_BACK');
    const lifted = applyDelta(one.snapshot, diffSnapshots(rolled, { ...base, revision: 3 }));
    expect(lifted.snapshot.explain('payments.provider.mpesa', ctx)).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });
  });
});
