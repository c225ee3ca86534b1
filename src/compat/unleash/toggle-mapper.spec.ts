import { compileSnapshot, type Constraint, type EvaluationContext, type SegmentDefinition, type SliceDefinition, type SnapshotDefinition } from '@switchyard/client-sdk/core';
import { type Context, InMemStorageProvider, Unleash } from 'unleash-client';
import { mapSlice, mapSnapshot, MAX_STRATEGIES_PER_TOGGLE } from './toggle-mapper.js';
import { caseVariants, MAX_CASE_VARIANTS } from './unleash-constraints.js';
import type { UnleashConstraint } from './unleash-protocol.js';
import { toUnleashContext } from './unleash-context.js';

const NO_TARGETING = { include: [], exclude: [], rules: [] };

function slice(key: string, basisPoints: number, extra: Partial<SliceDefinition> = {}): SliceDefinition {
  return { key, state: 'ACTIVE', basisPoints, stickinessAttribute: 'userId', targeting: NO_TARGETING, ...extra };
}

const c = (attribute: string, operator: Constraint['operator'], values: string[], more: Partial<Constraint> = {}): Constraint => ({
  attribute,
  operator,
  values,
  ...more,
});

function segmentsOf(...defs: SegmentDefinition[]): Map<string, SegmentDefinition> {
  return new Map(defs.map((d) => [d.key, d]));
}

/** `!attribute` for a negated constraint (inverted, or NOT_IN: how a negated IN is written), else `attribute`. */
const shown = (x: UnleashConstraint): string => `${x.inverted !== (x.operator === 'NOT_IN') ? '!' : ''}${x.contextName}`;

describe('mapSlice', () => {
  const kenya: SegmentDefinition = { key: 'kenya', constraints: [c('country', 'IN', ['KE'])] };
  const staffOnMobile: SegmentDefinition = {
    key: 'staff-mobile',
    constraints: [c('email', 'STR_ENDS_WITH', ['@corp.example']), c('platform', 'IN', ['ios', 'android'])],
  };

  it('a plain percentage is one flexibleRollout with the slice as groupId and its attribute as stickiness', () => {
    const { feature, inexpressible, approximations } = mapSlice(slice('api.get', 3700, { stickinessAttribute: 'accountId' }), new Map());
    expect(inexpressible).toBeNull();
    expect(approximations).toEqual([]);
    expect(feature).toEqual({
      name: 'api.get',
      type: 'release',
      project: 'default',
      enabled: true,
      stale: false,
      impressionData: false,
      strategies: [{ name: 'flexibleRollout', constraints: [], parameters: { rollout: '37', stickiness: 'accountId', groupId: 'api.get' } }],
      variants: [],
    });
  });

  it('100 % is the default strategy (no stickiness needed); 0 % is disabled, never an empty strategy list (which Unleash reads as on)', () => {
    expect(mapSlice(slice('a', 10000), new Map()).feature.strategies).toEqual([{ name: 'default', constraints: [], parameters: {} }]);
    const zero = mapSlice(slice('a', 0), new Map()).feature;
    expect(zero.enabled).toBe(false);
    expect(zero.strategies).toEqual([]);
  });

  it.each(['ROLLED_BACK', 'ARCHIVED'] as const)('%s is disabled whatever the configuration', (state) => {
    const { feature } = mapSlice(slice('a', 10000, { state, targeting: { include: ['kenya'], exclude: [], rules: [] } }), segmentsOf(kenya));
    expect(feature.enabled).toBe(false);
    expect(feature.strategies).toEqual([]);
  });

  it('fractional percents round down (the conservative form) and say so', () => {
    const half = mapSlice(slice('a', 1250), new Map());
    expect(half.feature.strategies[0]!.parameters.rollout).toBe('12');
    expect(half.approximations).toEqual(['FRACTIONAL_PERCENT']);
    expect(half.feature.description).toMatch(/^Conservative form .*rounded down/);
    const quarter = mapSlice(slice('a', 25), new Map());
    expect(quarter.feature.enabled).toBe(false);
    expect(quarter.approximations).toEqual(['FRACTIONAL_PERCENT']);
  });

  it('exclude wins: a multi-constraint exclude segment becomes one strategy per negated constraint, on every branch', () => {
    const { feature } = mapSlice(slice('a', 500, { targeting: { include: ['kenya'], exclude: ['staff-mobile'], rules: [] } }), segmentsOf(kenya, staffOnMobile));
    const summary = feature.strategies.map((s) => [s.name, s.parameters.rollout ?? '-', s.constraints.map(shown).join(' & ')]);
    expect(summary).toEqual([
      ['default', '-', 'country & !email'],
      ['default', '-', 'country & !platform'],
      ['flexibleRollout', '5', '!email'],
      ['flexibleRollout', '5', '!platform'],
    ]);
  });

  it('ordered rules: each rule carries the negation of the earlier ones, the default the negation of all', () => {
    const staff: SegmentDefinition = { key: 'staff', constraints: [c('email', 'STR_ENDS_WITH', ['@corp.example'])] };
    const { feature } = mapSlice(
      slice('a', 500, {
        targeting: {
          include: [],
          exclude: [],
          rules: [
            { segments: ['staff'], basisPoints: 10000 },
            { segments: ['kenya'], basisPoints: 2000 },
          ],
        },
      }),
      segmentsOf(staff, kenya),
    );
    const summary = feature.strategies.map((s) => [s.parameters.rollout ?? '100', s.constraints.map(shown).join(' & ')]);
    expect(summary).toEqual([
      ['100', 'email'],
      ['20', '!email & country'],
      ['5', '!email & !country'],
    ]);
  });

  it('a rule at 0 % keeps its subjects on LEGACY: its strategy is dropped but later branches still exclude them (a negated IN is NOT_IN)', () => {
    const { feature } = mapSlice(slice('a', 5000, { targeting: { include: [], exclude: [], rules: [{ segments: ['kenya'], basisPoints: 0 }] } }), segmentsOf(kenya));
    expect(feature.strategies).toHaveLength(1);
    expect(feature.strategies[0]!.constraints).toEqual([{ contextName: 'country', operator: 'NOT_IN', values: ['KE'], inverted: false, caseInsensitive: false }]);
  });

  it('single-value operators carry `value` (what the SDKs read) and `values`', () => {
    const adults: SegmentDefinition = { key: 'adults', constraints: [c('age', 'NUM_GTE', ['18'], { inverted: true })] };
    const { feature } = mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['adults'], rules: [] } }), segmentsOf(adults));
    expect(feature.strategies[0]!.constraints).toEqual([{ contextName: 'age', operator: 'NUM_GTE', values: ['18'], value: '18', inverted: false, caseInsensitive: false }]);
  });

  it('segments without constraints match everyone; segments missing from the snapshot nobody', () => {
    const everyone: SegmentDefinition = { key: 'everyone', constraints: [] };
    expect(mapSlice(slice('a', 0, { targeting: { include: ['everyone'], exclude: [], rules: [] } }), segmentsOf(everyone)).feature.strategies).toEqual([
      { name: 'default', constraints: [], parameters: {} },
    ]);
    expect(mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['everyone'], rules: [] } }), segmentsOf(everyone)).feature.enabled).toBe(false);
    expect(mapSlice(slice('a', 0, { targeting: { include: ['gone'], exclude: [], rules: [] } }), new Map()).feature.enabled).toBe(false);
    expect(mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['gone'], rules: [] } }), new Map()).feature.strategies).toHaveLength(1);
  });

  it('drops contradictory and duplicate terms', () => {
    const notKenya: SegmentDefinition = { key: 'not-kenya', constraints: [c('country', 'IN', ['KE'], { inverted: true })] };
    const kenyaAgain: SegmentDefinition = { key: 'kenya-again', constraints: [c('country', 'IN', ['KE'])] };
    // include kenya, exclude not-kenya: "kenya AND NOT not-kenya" = kenya; the rollout branch "NOT kenya... " is cut by the exclude.
    const { feature } = mapSlice(
      slice('a', 3000, { targeting: { include: ['kenya', 'kenya-again'], exclude: ['not-kenya'], rules: [] } }),
      segmentsOf(kenya, notKenya, kenyaAgain),
    );
    expect(feature.strategies).toEqual([
      { name: 'default', constraints: [{ contextName: 'country', operator: 'IN', values: ['KE'], inverted: false, caseInsensitive: false }], parameters: {} },
    ]);
  });

  it('beyond the strategy cap, serves the conservative form (disabled: everyone LEGACY) and says why', () => {
    const wide = (i: number): SegmentDefinition => ({ key: `s${i}`, constraints: [0, 1, 2, 3, 4].map((j) => c(`a${i}`, 'IN', [`v${j}`])) });
    const segments = segmentsOf(...[0, 1, 2, 3, 4, 5].map(wide));
    const rules = [0, 1, 2, 3, 4, 5].map((i) => ({ segments: [`s${i}`], basisPoints: 1000 }));
    const mapping = mapSlice(slice('a', 500, { targeting: { include: [], exclude: [], rules } }), segments);
    expect(mapping.inexpressible).toEqual({ code: 'TOO_MANY_STRATEGIES', limit: MAX_STRATEGIES_PER_TOGGLE });
    expect(mapping.feature.enabled).toBe(false);
    expect(mapping.feature.description).toMatch(/everyone LEGACY/);
  });

  it('leaves out rollout strategies whose stickiness Unleash reads as a keyword, keeping the rest', () => {
    const keyword = mapSlice(slice('a', 5000, { stickinessAttribute: 'default', targeting: { include: ['kenya'], exclude: [], rules: [] } }), segmentsOf(kenya));
    expect(keyword.approximations).toEqual(['RESERVED_STICKINESS']);
    expect(keyword.feature.strategies.map((s) => s.name)).toEqual(['default']);
    expect(mapSlice(slice('a', 10000, { stickinessAttribute: 'random' }), new Map()).approximations).toEqual([]);
    const odd: SegmentDefinition = { key: 'odd', constraints: [c('properties', 'IN', ['x'])] };
    const reserved = mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['odd'], rules: [] } }), segmentsOf(odd));
    expect(reserved.feature.enabled).toBe(false);
    expect(reserved.approximations).toEqual(['RESERVED_ATTRIBUTE']);
  });

  it('writes SEMVER_GTE / SEMVER_LTE with the operators every SDK knows: GT or EQ, and negated, NOT GT and NOT EQ', () => {
    const modern: SegmentDefinition = { key: 'modern', constraints: [c('appVersion', 'SEMVER_GTE', ['2.0.0'])] };
    const include = mapSlice(slice('a', 0, { targeting: { include: ['modern'], exclude: [], rules: [] } }), segmentsOf(modern)).feature;
    expect(include.strategies.map((s) => s.constraints.map((x) => `${x.inverted ? '!' : ''}${x.operator} ${x.value}`))).toEqual([['SEMVER_GT 2.0.0'], ['SEMVER_EQ 2.0.0']]);
    const exclude = mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['modern'], rules: [] } }), segmentsOf(modern)).feature;
    expect(exclude.strategies.map((s) => s.constraints.map((x) => `${x.inverted ? '!' : ''}${x.operator} ${x.value}`))).toEqual([['!SEMVER_GT 2.0.0', '!SEMVER_EQ 2.0.0']]);
  });

  it('writes a case-insensitive IN as a case-sensitive one over every case variant (SDKs differ on the flag)', () => {
    const ke: SegmentDefinition = { key: 'ke', constraints: [c('country', 'IN', ['ke'], { caseInsensitive: true, inverted: true })] };
    const { feature, approximations } = mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['ke'], rules: [] } }), segmentsOf(ke));
    expect(approximations).toEqual([]);
    expect(feature.strategies[0]!.constraints).toEqual([
      { contextName: 'country', operator: 'IN', values: ['ke', 'kE', 'Ke', 'KE', '\u212ae', '\u212aE'], inverted: false, caseInsensitive: false },
    ]);
  });

  it('keeps the flag on case-insensitive lists too large to expand (conservative: SDKs may ignore it), leaving out strategies where ignoring it would match more', () => {
    const long = 'abcdefghijkl'; // 2^11 * 3 variants
    const big: SegmentDefinition = { key: 'big', constraints: [c('plan', 'IN', [long], { caseInsensitive: true })] };
    const included = mapSlice(slice('a', 0, { targeting: { include: ['big'], exclude: [], rules: [] } }), segmentsOf(big));
    expect(included.approximations).toEqual(['CASE_INSENSITIVE_LIST']);
    expect(included.form).toBe('CONSERVATIVE');
    expect(included.feature.strategies[0]!.constraints[0]).toMatchObject({ operator: 'IN', values: [long], caseInsensitive: true, inverted: false });
    const excluded = mapSlice(slice('a', 10000, { targeting: { include: [], exclude: ['big'], rules: [] } }), segmentsOf(big));
    expect(excluded.approximations).toEqual(['CASE_INSENSITIVE_LIST']);
    expect(excluded.feature.enabled).toBe(false);
    expect(excluded.form).toBe('DISABLED');
  });

  it('leaves out strategies needing a DATE_* constraint on an attribute other than currentTime', () => {
    const recent: SegmentDefinition = { key: 'recent', constraints: [c('signupDate', 'DATE_AFTER', ['2024-01-01T00:00:00Z'])] };
    const { feature, approximations } = mapSlice(slice('a', 2000, { targeting: { include: ['recent'], exclude: [], rules: [] } }), segmentsOf(recent));
    expect(approximations).toEqual(['DATE_ATTRIBUTE']);
    expect(feature.strategies).toEqual([{ name: 'flexibleRollout', constraints: [], parameters: { rollout: '20', stickiness: 'userId', groupId: 'a' } }]);
  });
});

describe('caseVariants', () => {
  it('lists every string that lower-cases like a value (with the Kelvin sign for k), or null past the cap or outside ASCII', () => {
    expect(caseVariants(['a1'])).toEqual(['a1', 'A1']);
    expect(caseVariants(['K'])).toEqual(['k', 'K', '\u212a']);
    for (const variant of caseVariants(['Kenya'])!) expect(variant.toLowerCase()).toBe('kenya');
    expect(caseVariants(['é'])).toBeNull();
    expect(caseVariants(['abcdefghij'])).toBeNull(); // 2^9 * 3 > MAX_CASE_VARIANTS
    expect(caseVariants(Array.from({ length: MAX_CASE_VARIANTS + 1 }, (_, i) => String(i)))).toBeNull();
  });
});

describe('toUnleashContext', () => {
  it('puts the six Unleash fields at top level, the rest under properties, and leaves out what we treat as missing', () => {
    expect(toUnleashContext({ userId: 'u1', sessionId: 's', currentTime: '2024-01-01T00:00:00Z', country: 'KE', plan: '', tier: undefined, properties: 'x' })).toEqual({
      userId: 'u1',
      sessionId: 's',
      currentTime: '2024-01-01T00:00:00Z',
      properties: { country: 'KE' },
    });
  });
});

/**
 * Random configurations, decided by the real Unleash Node SDK (bootstrapped in-process with the
 * mapped toggles) and by the decision core. Where the mapping leaves strategies out (a DATE_* on
 * an attribute other than currentTime), only the conservative direction is checked.
 */
describe('mapSnapshot agrees with the decision core through unleash-client (random configurations)', () => {
  let seed = 20240601;
  const random = (): number => {
    // mulberry32: reproducible
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const some = <T>(list: readonly T[], max: number): T[] => [...new Set(Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(list)))];

  const COUNTRIES = ['KE', 'GH', 'NG', 'ke'];
  const PLANS = ['free', 'pro', 'enterprise'];
  const EMAILS = ['ann@corp.example', 'BOB@CORP.EXAMPLE', 'cy@mail.example', 'dee@corp.example.org'];
  const AGES = ['17', '18', '45.5', 'abc'];
  const VERSIONS = ['1.2.3', '2.0.0', '2.0.0-rc.1', '1.2', 'v2.0.0'];
  const TIMES = ['2024-01-01T00:00:00Z', '2025-06-01T12:00:00+02:00'];

  function randomConstraint(): Constraint {
    const inverted = random() < 0.3;
    switch (Math.floor(random() * 5)) {
      case 0:
        return c(pick(['country', 'plan']), pick(['IN', 'NOT_IN'] as const), some([...COUNTRIES, ...PLANS], 2), { inverted, caseInsensitive: random() < 0.3 });
      case 1:
        return c('email', pick(['STR_STARTS_WITH', 'STR_ENDS_WITH', 'STR_CONTAINS'] as const), some(['ann', '@corp.example', 'corp', 'BOB'], 2), {
          inverted,
          caseInsensitive: random() < 0.5,
        });
      case 2:
        return c('age', pick(['NUM_EQ', 'NUM_GT', 'NUM_GTE', 'NUM_LT', 'NUM_LTE'] as const), [pick(['18', '30', '45.5'])], { inverted });
      case 3:
        return c('appVersion', pick(['SEMVER_EQ', 'SEMVER_GT', 'SEMVER_GTE', 'SEMVER_LT', 'SEMVER_LTE'] as const), [pick(['1.2.3', '2.0.0', '2.0.0-rc.1'])], {
          inverted,
        });
      default:
        // Mostly currentTime; sometimes another attribute, which Unleash SDKs cannot read alike (left out).
        return c(random() < 0.9 ? 'currentTime' : 'signupDate', pick(['DATE_AFTER', 'DATE_BEFORE'] as const), [pick(['2024-06-01T00:00:00Z', '2030-01-01T00:00:00Z'])], {
          inverted,
        });
    }
  }

  const SHARES = [0, 1, 100, 3700, 5000, 9999, 10000, 25, 1250];

  function randomSnapshot(): SnapshotDefinition {
    const segments: SegmentDefinition[] = Array.from({ length: 12 }, (_, i) => ({
      key: `seg${i}`,
      constraints: Array.from({ length: i === 0 ? 0 : 1 + Math.floor(random() * 3) }, randomConstraint),
    }));
    const keys = segments.map((s) => s.key);
    const slices: SliceDefinition[] = Array.from({ length: 150 }, (_, i) => ({
      key: `slice.${i}`,
      state: random() < 0.9 ? 'ACTIVE' : pick(['ROLLED_BACK', 'ARCHIVED'] as const),
      basisPoints: pick(SHARES),
      stickinessAttribute: pick(['userId', 'accountId']),
      targeting: {
        include: random() < 0.4 ? some(keys, 2) : [],
        exclude: random() < 0.4 ? some(keys, 2) : [],
        rules: Array.from({ length: Math.floor(random() * 4) }, () => ({ segments: some(keys, 2), basisPoints: pick(SHARES) })),
      },
    }));
    return { revision: 1, slices, segments };
  }

  function randomContext(i: number): EvaluationContext {
    const maybe = (list: readonly string[]) => (random() < 0.85 ? pick(list) : undefined);
    return {
      userId: random() < 0.95 ? `user-${i}` : undefined,
      accountId: random() < 0.9 ? `acct-${i % 37}` : undefined,
      country: maybe(COUNTRIES),
      plan: maybe(PLANS),
      email: maybe(EMAILS),
      age: maybe(AGES),
      appVersion: maybe(VERSIONS),
      currentTime: maybe(TIMES),
      signupDate: maybe(TIMES),
    };
  }

  /** The same configuration with every share rounded down to a whole percent: what Unleash can express exactly. */
  function floored(def: SnapshotDefinition): SnapshotDefinition {
    const floor = (bp: number) => Math.floor(bp / 100) * 100;
    return {
      ...def,
      slices: def.slices.map((s) => ({
        ...s,
        basisPoints: floor(s.basisPoints),
        targeting: { ...s.targeting, rules: s.targeting.rules.map((r) => ({ ...r, basisPoints: floor(r.basisPoints) })) },
      })),
    };
  }

  it('for 150 random slices x 400 random contexts, per configuration', async () => {
    const def = randomSnapshot();
    const mappings = mapSnapshot(def);
    const unleash = new Unleash({
      url: 'http://127.0.0.1:9/api/',
      appName: 'toggle-mapper-spec',
      disableMetrics: true,
      refreshInterval: 0, // never fetch (polling-fetcher.js: `!(refreshInterval > 0)`)
      bootstrap: { data: mappings.map((m) => m.feature) as never },
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
    });
    const problems: unknown[] = [];
    unleash.on('error', (e) => problems.push(e));
    unleash.on('warn', (w) => problems.push(w));
    try {
      await new Promise<void>((resolve) => (unleash.isSynchronized() ? resolve() : unleash.once('synchronized', () => resolve())));
      const exact = compileSnapshot(floored(def));
      const ours = compileSnapshot(def);
      let compared = 0;
      let onNew = 0;
      const mismatches: string[] = [];
      for (let i = 0; i < 400; i++) {
        const context = randomContext(i);
        // The Node SDK types currentTime as a Date, and reads any string `new Date()` parses (strategy.js DateOperator).
        const unleashContext = toUnleashContext(context) as Context;
        def.slices.forEach((s, index) => {
          const enabled = unleash.isEnabled(s.key, unleashContext);
          const mapping = mappings[index]!;
          // Exact at the rounded-down shares, unless strategies were left out or the toggle disabled.
          const exactExpected = mapping.inexpressible === null && mapping.approximations.every((a) => a === 'FRACTIONAL_PERCENT');
          if (exactExpected && enabled !== (exact.decide(s.key, context) === 'NEW')) {
            mismatches.push(`${s.key} ${JSON.stringify(context)}: unleash ${enabled}, expected ${!enabled}`);
          }
          // The conservative direction against the real configuration: never NEW where we say LEGACY.
          if (enabled && ours.decide(s.key, context) !== 'NEW') mismatches.push(`${s.key} ${JSON.stringify(context)}: NEW in Unleash only`);
          compared++;
          if (enabled) onNew++;
        });
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(compared).toBe(60_000);
      // Not vacuous: both answers occur often.
      expect(onNew).toBeGreaterThan(compared * 0.1);
      expect(onNew).toBeLessThan(compared * 0.9);
      expect(mappings.some((m) => m.feature.strategies.length >= 8)).toBe(true);
      // Most slices are checked exactly, not just in the conservative direction.
      expect(mappings.filter((m) => m.approximations.some((a) => a !== 'FRACTIONAL_PERCENT')).length).toBeLessThan(40);
      expect(problems).toEqual([]);
    } finally {
      unleash.destroy();
    }
  });
});

describe('rolled-back segments (docs/segment-rollback.md)', () => {
  const kenya: SegmentDefinition = { key: 'kenya', constraints: [{ attribute: 'country', operator: 'IN', values: ['KE'] }] };
  it('are one more exclusion to an Unleash SDK, and the description names them', () => {
    const targeting = { include: [], exclude: [], rules: [{ segments: ['kenya'], basisPoints: 10000 }] };
    const rolledBack = mapSlice(slice('a', 5000, { targeting, rolledBackSegments: ['kenya'] }), segmentsOf(kenya));
    const excluded = mapSlice(slice('a', 5000, { targeting: { ...targeting, exclude: ['kenya'] } }), segmentsOf(kenya));
    expect(rolledBack.feature.strategies).toEqual(excluded.feature.strategies);
    expect(rolledBack.form).toBe('EXACT');
    expect(rolledBack.feature.description).toBe('SEGMENT_ROLLED_BACK: segments rolled back to LEGACY: kenya.');
    expect(excluded.feature.description).toBeUndefined();
  });
  it('a slice whose rolledBackSegments is not a list is served disabled', () => {
    const bad = { ...slice('a', 5000), rolledBackSegments: 'kenya' } as unknown as SliceDefinition;
    expect(mapSlice(bad, segmentsOf(kenya)).feature.enabled).toBe(false);
  });
});
