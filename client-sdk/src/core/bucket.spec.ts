import murmurhash3js from 'murmurhash3js';
import { pathAt, positionFor, positionOf, positionWithPrefix } from './bucket.js';
import { basisPointsToPercent, isBasisPoints, MAX_BASIS_POINTS, percentToBasisPoints } from './basis-points.js';
import { evaluateSlice } from './evaluate.js';
import { prepareHashPrefix } from './murmur3.js';
import type { SegmentDefinition, SliceDefinition } from './types.js';

const SLICE = 'payments.provider.mpesa';
const ids = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

describe('positionOf', () => {
  it('puts h % 100 in the hundreds and floor(h / 100) % 100 in the units', () => {
    expect(positionOf(0)).toBe(0);
    expect(positionOf(99)).toBe(9900);
    expect(positionOf(100)).toBe(1);
    expect(positionOf(4_294_967_295)).toBe(95 * 100 + 72); // 0xffffffff = 42949672 * 100 + 95
    expect(positionOf(123_456_789)).toBe(89 * 100 + 67);
  });

  it('hashes sliceKey + ":" + id, with or without a prepared prefix', () => {
    const prefix = prepareHashPrefix(SLICE + ':');
    for (const id of ['42', 'user-7', '']) {
      expect(positionWithPrefix(prefix, id)).toBe(positionOf(murmurhash3js.x86.hash32(`${SLICE}:${id}`)));
      expect(positionFor(SLICE, id)).toBe(positionWithPrefix(prefix, id));
    }
  });

  it('differs from the Unleash Node SDK for non-ASCII ids, as DESIGN.md says (it hashes charCode & 0xff)', () => {
    const id = 'jürgen';
    expect(positionFor(SLICE, id)).not.toBe(positionOf(murmurhash3js.x86.hash32(`${SLICE}:${id}`)));
  });
});

describe('rollout line', () => {
  const prefix = prepareHashPrefix(SLICE + ':');
  const positions = ids.map((id) => positionWithPrefix(prefix, id));

  it('is monotonic: raising basis points never moves a subject from NEW to LEGACY', () => {
    const steps = [0, 1, 25, 100, 500, 2000, 5000, 9999, 10000];
    let flips = 0;
    for (const position of positions) {
      let wasNew = false;
      for (const bp of steps) {
        const isNew = pathAt(position, bp) === 'NEW';
        if (wasNew && !isNew) flips++;
        wasNew = isNew;
      }
    }
    expect(flips).toBe(0);
  });

  it('keeps a subject at one position whichever rule applies', () => {
    const segments: SegmentDefinition[] = [{ key: 'kenya', constraints: [{ attribute: 'country', operator: 'IN', values: ['KE'] }] }];
    const slice = (ruleBp: number, ownBp: number): SliceDefinition => ({
      key: SLICE,
      state: 'ACTIVE',
      basisPoints: ownBp,
      stickinessAttribute: 'userId',
      targeting: { include: [], exclude: [], rules: [{ segments: ['kenya'], basisPoints: ruleBp }] },
    });
    let mismatches = 0;
    for (let i = 0; i < 2_000; i++) {
      const id = ids[i]!;
      for (const bp of [1, 500, 2000, 9999]) {
        // A Kenyan at bp through the rule decides exactly as a non-Kenyan at bp through the default.
        const viaRule = evaluateSlice(slice(bp, 0), segments, { userId: id, country: 'KE' });
        const viaDefault = evaluateSlice(slice(0, bp), segments, { userId: id, country: 'GH' });
        if (viaRule.reason !== 'RULE' || viaDefault.reason !== 'ROLLOUT') mismatches++;
        if (viaRule.path !== viaDefault.path || viaRule.path !== pathAt(positions[i]!, bp)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it.each([1, 5, 20, 50, 99])('sends %d %% of 100,000 ids to NEW, within ±0.5 points', (percent) => {
    const onNew = positions.filter((p) => pathAt(p, percent * 100) === 'NEW').length;
    expect(Math.abs((onNew / ids.length) * 100 - percent)).toBeLessThanOrEqual(0.5);
  });

  it('spreads sub-percent canaries too (0.25 % within ±0.1 points)', () => {
    const onNew = positions.filter((p) => pathAt(p, 25) === 'NEW').length;
    expect(Math.abs((onNew / ids.length) * 100 - 0.25)).toBeLessThanOrEqual(0.1);
  });

  it('agrees with Unleash flexibleRollout at every whole percent: NEW iff (h % 100) + 1 <= percent', () => {
    let mismatches = 0;
    ids.forEach((id, i) => {
      const normalizedValue = (murmurhash3js.x86.hash32(`${SLICE}:${id}`) % 100) + 1; // unleash-client-node strategy/util.ts
      for (const percent of [0, 1, 5, 10, 33, 50, 99, 100]) {
        if ((pathAt(positions[i]!, percent * 100) === 'NEW') !== normalizedValue <= percent) mismatches++;
      }
    });
    expect(mismatches).toBe(0);
  });

  // Unleash client-specification, specifications/10-flexible-rollout-strategy.json: groupId is the
  // slice key, stickiness the attribute, rollout in whole percents.
  it.each([
    ['Feature.flexibleRollout.10', 10, 'userId', '174', 'NEW'],
    ['Feature.flexibleRollout.10', 10, 'userId', '499', 'LEGACY'],
    ['Feature.flexibleRollout.10', 10, 'sessionId', '174', 'NEW'],
    ['Feature.flexibleRollout.10', 10, 'sessionId', '499', 'LEGACY'],
    ['Feature.flexibleRollout.userId.55', 55, 'userId', '25', 'NEW'],
    ['Feature.flexibleRollout.sessionId.42', 42, 'sessionId', '147', 'NEW'],
  ] as const)('matches the Unleash spec: %s at %d %% for %s=%s is %s', (groupId, percent, attribute, id, expected) => {
    const slice: SliceDefinition = {
      key: groupId,
      state: 'ACTIVE',
      basisPoints: percent * 100,
      stickinessAttribute: attribute,
      targeting: { include: [], exclude: [], rules: [] },
    };
    expect(evaluateSlice(slice, [], { [attribute]: id }).path).toBe(expected);
  });
});

describe('basis points', () => {
  it.each([
    [0, 0],
    [0.01, 1],
    [0.25, 25],
    [0.29, 29],
    [1.1, 110],
    [12.34, 1234],
    [33.33, 3333],
    [57.7, 5770],
    [99.99, 9999],
    [100, 10000],
    [-0, 0],
  ])('converts %d %% to %d bp', (percent, bp) => {
    expect(percentToBasisPoints(percent)).toBe(bp);
    expect(Object.is(percentToBasisPoints(percent), bp)).toBe(true);
  });

  it.each([0.125, 12.345, 0.001, 99.999, -0.01, 100.01, 101, NaN, Infinity, -Infinity, 1e-9])('refuses %d %%', (percent) => {
    expect(percentToBasisPoints(percent)).toBeNull();
  });

  it('round-trips every basis point through a two-decimal percent', () => {
    const failures: number[] = [];
    for (let bp = 0; bp <= MAX_BASIS_POINTS; bp++) {
      const percent = basisPointsToPercent(bp);
      // `Number("12.34")` is how a percent typed in the console or sent in JSON arrives.
      if (percentToBasisPoints(Number(percent.toFixed(2))) !== bp || percentToBasisPoints(percent) !== bp) failures.push(bp);
    }
    expect(failures).toEqual([]);
  });

  it('recognises integer basis points 0..10000 only', () => {
    expect([0, 1, 10000].every(isBasisPoints)).toBe(true);
    expect([-1, 10001, 0.5, NaN, '5', null].some((v) => isBasisPoints(v))).toBe(false);
  });
});
