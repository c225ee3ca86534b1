import { compileSnapshot, type Constraint, type SegmentDefinition, type SliceDefinition } from '@switchyard/client-sdk/core';
import fc from 'fast-check';
import { OldUnleashSdk, worstBehaviourOf } from '../../../test/utils/old-unleash-sdk.js';
import { expandSlice, mapSlice, toggleFor, togglesByLevel } from './toggle-mapper.js';
import { CLIENT_LEVELS, declaredSpec, levelOf, levelOfHeader, NEWEST_LEVEL, OLDEST_LEVEL } from './unleash-constraints.js';
import { toUnleashContext } from './unleash-context.js';

const c = (attribute: string, operator: Constraint['operator'], values: string[], more: Partial<Constraint> = {}): Constraint => ({ attribute, operator, values, ...more });
const slice = (key: string, basisPoints: number, extra: Partial<SliceDefinition> = {}): SliceDefinition => ({
  key,
  state: 'ACTIVE',
  basisPoints,
  stickinessAttribute: 'userId',
  targeting: { include: [], exclude: [], rules: [] },
  ...extra,
});
const segmentsOf = (...defs: SegmentDefinition[]) => new Map(defs.map((d) => [d.key, d]));
const sinceOf = (spec: string | undefined) => levelOfHeader(spec).since;

describe('client specification levels', () => {
  it('reads the Unleash-Client-Spec header as the Unleash server does: strict SemVer, else none (the oldest level)', () => {
    expect(sinceOf(undefined)).toBeNull();
    expect(sinceOf('5.2.0')).toBe('5.1.5'); // unleash-client 6.5 and later
    expect(sinceOf('6.1.0')).toBe('5.1.5');
    expect(sinceOf('5.1.5')).toBe('5.1.5');
    expect(sinceOf('5.1.5-beta.1')).toBe('4.2.1'); // a pre-release comes before its release
    expect(sinceOf('5.0.2')).toBe('4.2.1'); // Java 9.2.1 and before
    expect(sinceOf('4.3.1')).toBe('4.2.1'); // every Go SDK since 3.8.0
    expect(sinceOf('4.2.0')).toBe('4.1.0'); // unleash-client 3.14.1 to 4.0
    expect(sinceOf('4.0.0')).toBe('4.0.0');
    expect(sinceOf('3.3.0')).toBeNull();
    for (const bad of ['v5.2.0', ' 5.2.0', '5.2', '5.2.0.1', '', 'x'.repeat(100), '99999999999999999999.0.0']) {
      expect([bad, declaredSpec(bad), levelOfHeader(bad)]).toEqual([bad, null, OLDEST_LEVEL]);
    }
    expect(declaredSpec(['5.2.0', '5.2.0'])).toBeNull();
    expect(levelOf('5.2.0')).toBe(NEWEST_LEVEL);
  });

  it('levels only ever add capabilities', () => {
    const keys = ['customStickiness', 'operators', 'notInOnMissing', 'caseInsensitiveStartsWith'] as const;
    for (let i = 1; i < CLIENT_LEVELS.length; i++) {
      for (const k of keys) if (CLIENT_LEVELS[i - 1]![k]) expect([i, k, CLIENT_LEVELS[i]![k]]).toEqual([i, k, true]);
    }
  });
});

describe('the form each level gets', () => {
  const salaryRun: SegmentDefinition = { key: 'salary-run', constraints: [c('accountId', 'IN', ['acct-1', 'acct-2', 'acct-3'])] };
  const staff: SegmentDefinition = { key: 'staff', constraints: [c('email', 'STR_ENDS_WITH', ['@corp.example'], { caseInsensitive: true })] };
  const kenya: SegmentDefinition = { key: 'kenya', constraints: [c('country', 'IN', ['KE'])] };

  it('an exclusion by account list stays in force for the oldest SDKs: NOT_IN, never an inverted IN (exact from 4.2.1)', () => {
    const s = slice('pay', 5000, { targeting: { include: [], exclude: ['salary-run'], rules: [] } });
    const oldest = mapSlice(s, segmentsOf(salaryRun), { level: OLDEST_LEVEL });
    expect(oldest.form).toBe('CONSERVATIVE'); // NOT_IN on a subject without accountId: false below 4.2.1
    expect(oldest.approximations).toEqual(['NOT_IN_MISSING_ATTRIBUTE']);
    expect(oldest.feature.strategies).toEqual([
      {
        name: 'flexibleRollout',
        constraints: [{ contextName: 'accountId', operator: 'NOT_IN', values: ['acct-1', 'acct-2', 'acct-3'], inverted: false, caseInsensitive: false }],
        parameters: { rollout: '50', stickiness: 'userId', groupId: 'pay' },
      },
    ]);
    expect(mapSlice(s, segmentsOf(salaryRun), { level: levelOf('4.3.1') }).form).toBe('EXACT');
  });

  it('an exclusion the SDK cannot evaluate turns the toggle off for it, and says why', () => {
    const s = slice('api', 10000, { targeting: { include: [], exclude: ['staff'], rules: [] } });
    const oldest = mapSlice(s, segmentsOf(staff), { level: OLDEST_LEVEL });
    expect(oldest.form).toBe('DISABLED');
    expect(oldest.feature.enabled).toBe(false);
    expect(oldest.feature.description).toMatch(/^Conservative form for Unleash SDKs.*need client specification 4\.1\.0/);
    const newest = mapSlice(s, segmentsOf(staff), { level: NEWEST_LEVEL });
    expect(newest.form).toBe('EXACT');
    expect(newest.feature.strategies[0]!.constraints[0]).toMatchObject({ operator: 'STR_ENDS_WITH', inverted: true, caseInsensitive: true });
  });

  it('a rule the SDK cannot evaluate takes its strategy with it, and the later branches that negate it; IN rules stay', () => {
    const s = slice('r', 500, {
      targeting: {
        include: [],
        exclude: [],
        rules: [
          { segments: ['kenya'], basisPoints: 2000 },
          { segments: ['staff'], basisPoints: 10000 },
        ],
      },
    });
    const oldest = mapSlice(s, segmentsOf(kenya, staff), { level: OLDEST_LEVEL });
    // Kenya at 20 % stays; staff (after "not kenya") and the default (after "not kenya and not staff") need STR_ENDS_WITH.
    expect(oldest.form).toBe('CONSERVATIVE');
    expect(oldest.feature.strategies.map((st) => [st.parameters.rollout ?? '100', st.constraints.map((x) => x.operator).join(',')])).toEqual([['20', 'IN']]);
  });

  it('custom stickiness needs 4.0.0; rollouts on it are left out below, 100 % strategies stay', () => {
    const s = slice('acct', 3000, { stickinessAttribute: 'accountId', targeting: { include: ['kenya'], exclude: [], rules: [] } });
    const oldest = mapSlice(s, segmentsOf(kenya), { level: OLDEST_LEVEL });
    expect(oldest.approximations).toEqual(['CUSTOM_STICKINESS']);
    expect(oldest.feature.strategies.map((st) => st.name)).toEqual(['default']);
    expect(mapSlice(s, segmentsOf(kenya), { level: levelOf('4.0.0') }).form).toBe('EXACT');
  });

  it('a case-insensitive STR_STARTS_WITH needs 5.1.5: kept where it can only match fewer, left out where negated', () => {
    const admins: SegmentDefinition = { key: 'admins', constraints: [c('email', 'STR_STARTS_WITH', ['admin'], { caseInsensitive: true })] };
    const included = slice('i', 0, { targeting: { include: ['admins'], exclude: [], rules: [] } });
    const excluded = slice('e', 10000, { targeting: { include: [], exclude: ['admins'], rules: [] } });
    const go = levelOf('4.3.1');
    expect(mapSlice(included, segmentsOf(admins), { level: go })).toMatchObject({ form: 'CONSERVATIVE', approximations: ['CASE_INSENSITIVE_STARTS_WITH'] });
    expect(mapSlice(excluded, segmentsOf(admins), { level: go })).toMatchObject({ form: 'DISABLED', approximations: ['CASE_INSENSITIVE_STARTS_WITH'] });
    expect(mapSlice(excluded, segmentsOf(admins), { level: NEWEST_LEVEL }).form).toBe('EXACT');
  });

  it('levels that get the same toggle share one object (serialized once)', () => {
    const byLevel = togglesByLevel(expandSlice(slice('plain', 3700), new Map()));
    expect(new Set(byLevel).size).toBe(1);
    const staffExcluded = togglesByLevel(expandSlice(slice('x', 5000, { targeting: { include: [], exclude: ['staff'], rules: [] } }), segmentsOf(staff)));
    expect(staffExcluded.map((m) => m.form)).toEqual(['DISABLED', 'DISABLED', 'EXACT', 'EXACT', 'EXACT']);
    expect(staffExcluded[2]).toBe(staffExcluded[4]);
  });
});

/**
 * The property of issue 11: whatever the targeting, an Unleash SDK of any client-specification
 * level, at its worst (test/utils/old-unleash-sdk.ts), never puts a subject on NEW where
 * Switchyard says LEGACY, never throws on what it is served, and agrees exactly wherever the
 * served form says EXACT.
 */
describe('every level: never NEW where Switchyard says LEGACY (fast-check over generated targetings)', () => {
  const COUNTRIES = ['KE', 'GH', 'ke', 'NG'];
  const PLANS = ['free', 'pro', 'Pro'];
  const EMAILS = ['ann@corp.example', 'BOB@CORP.EXAMPLE', 'Admin@mail.example', 'admin@corp.example'];
  const AGES = ['17', '18', '45.5', 'abc'];
  const VERSIONS = ['1.2.3', '2.0.0', '2.0.0-rc.1', '1.2', 'v2.0.0'];
  const TIMES = ['2020-01-01T00:00:00Z', '2035-06-01T12:00:00+02:00'];

  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
  const flags = fc.record({ inverted: fc.boolean(), caseInsensitive: fc.boolean() });

  const constraintArb: fc.Arbitrary<Constraint> = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('country', 'plan', 'accountId'),
        fc.constantFrom('IN' as const, 'NOT_IN' as const),
        fc.uniqueArray(fc.constantFrom(...COUNTRIES, ...PLANS, 'acct-1', 'acct-2'), { maxLength: 3 }),
        flags,
      )
      .map(([a, op, values, f]) => c(a, op, values, f)),
    fc
      .tuple(
        fc.constantFrom('STR_STARTS_WITH' as const, 'STR_ENDS_WITH' as const, 'STR_CONTAINS' as const),
        fc.uniqueArray(fc.constantFrom('admin', '@corp.example', 'CORP', 'bob'), { minLength: 1, maxLength: 2 }),
        flags,
      )
      .map(([op, values, f]) => c('email', op, values, f)),
    fc
      .tuple(fc.constantFrom('NUM_EQ' as const, 'NUM_GT' as const, 'NUM_GTE' as const, 'NUM_LT' as const, 'NUM_LTE' as const), fc.constantFrom('18', '30', '45.5'), fc.boolean())
      .map(([op, v, inverted]) => c('age', op, [v], { inverted })),
    fc
      .tuple(
        fc.constantFrom('SEMVER_EQ' as const, 'SEMVER_GT' as const, 'SEMVER_GTE' as const, 'SEMVER_LT' as const, 'SEMVER_LTE' as const),
        fc.constantFrom('1.2.3', '2.0.0', '2.0.0-rc.1'),
        fc.boolean(),
      )
      .map(([op, v, inverted]) => c('appVersion', op, [v], { inverted })),
    fc
      .tuple(fc.constantFrom('currentTime', 'signupDate'), fc.constantFrom('DATE_AFTER' as const, 'DATE_BEFORE' as const), fc.constantFrom('2025-01-01T00:00:00Z'), fc.boolean())
      .map(([a, op, v, inverted]) => c(a, op, [v], { inverted })),
  );

  const SHARES = [0, 1, 100, 2500, 3700, 5000, 9999, 10000, 25, 1250];
  const SEGMENT_KEYS = ['s0', 's1', 's2', 's3', 'gone'];
  const keysArb = fc.uniqueArray(fc.constantFrom(...SEGMENT_KEYS), { maxLength: 2 });

  const caseArb = fc.record({
    segments: fc.tuple(...[0, 1, 2, 3].map((i) => fc.array(constraintArb, { maxLength: 3 }).map((constraints): SegmentDefinition => ({ key: `s${i}`, constraints })))),
    slice: fc.record({
      key: fc.constant('slice.gen'),
      state: fc.constantFrom('ACTIVE' as const, 'ACTIVE' as const, 'ACTIVE' as const, 'ROLLED_BACK' as const),
      basisPoints: fc.constantFrom(...SHARES),
      stickinessAttribute: fc.constantFrom('userId', 'accountId', 'sessionId'),
      targeting: fc.record({
        include: keysArb,
        exclude: keysArb,
        rules: fc.array(fc.record({ segments: keysArb, basisPoints: fc.constantFrom(...SHARES) }), { maxLength: 3 }),
      }),
    }),
    contexts: fc.array(
      fc.record({
        userId: maybe(fc.integer({ min: 0, max: 9999 }).map((i) => `user-${i}`)),
        accountId: maybe(fc.constantFrom('acct-1', 'acct-2', 'acct-3')),
        sessionId: maybe(fc.integer({ min: 0, max: 50 }).map((i) => `s-${i}`)),
        country: maybe(fc.constantFrom(...COUNTRIES)),
        plan: maybe(fc.constantFrom(...PLANS)),
        email: maybe(fc.constantFrom(...EMAILS)),
        age: maybe(fc.constantFrom(...AGES)),
        appVersion: maybe(fc.constantFrom(...VERSIONS)),
        currentTime: maybe(fc.constantFrom(...TIMES)),
        signupDate: maybe(fc.constantFrom(...TIMES)),
      }),
      { minLength: 20, maxLength: 40 },
    ),
  });

  it('for generated targetings and subjects, at every level', () => {
    const seen = { onNew: 0, decided: 0, conservative: 0, exact: 0, disabled: 0 };
    fc.assert(
      fc.property(caseArb, ({ segments, slice: s, contexts }) => {
        const definition = s as SliceDefinition;
        const ours = compileSnapshot({ revision: 1, slices: [definition], segments: [...segments] });
        const expansion = expandSlice(definition, segmentsOf(...segments));
        for (const level of CLIENT_LEVELS) {
          const mapping = toggleFor(expansion, level);
          seen[mapping.form === 'EXACT' ? 'exact' : mapping.form === 'CONSERVATIVE' ? 'conservative' : 'disabled']++;
          const sdk = new OldUnleashSdk([mapping.feature], worstBehaviourOf(level));
          if (level === OLDEST_LEVEL) {
            for (const strategy of mapping.feature.strategies) {
              for (const x of strategy.constraints) expect([x.operator, x.inverted, x.caseInsensitive]).toEqual([expect.stringMatching(/^(IN|NOT_IN)$/), false, false]);
              if (strategy.name === 'flexibleRollout') expect(['userId', 'sessionId']).toContain(strategy.parameters.stickiness);
            }
          }
          for (const context of contexts) {
            const enabled = sdk.isEnabled(definition.key, toUnleashContext(context));
            const path = ours.decide(definition.key, context);
            if (enabled) expect([level.since, path]).toEqual([level.since, 'NEW']);
            if (mapping.form === 'EXACT') expect([level.since, enabled]).toEqual([level.since, path === 'NEW']);
            seen.decided++;
            if (path === 'NEW') seen.onNew++;
          }
        }
      }),
      { numRuns: 300, seed: 20260611 },
    );
    // Not vacuous: both paths occur, and every form.
    expect(seen.onNew).toBeGreaterThan(seen.decided * 0.1);
    expect(seen.onNew).toBeLessThan(seen.decided * 0.9);
    expect(Math.min(seen.exact, seen.conservative, seen.disabled)).toBeGreaterThan(50);
  });

  it('the evaluator is strict: it catches what the mapping must never serve an old SDK', () => {
    const negatedIn = { name: 'x', type: 'release', project: 'default', enabled: true, stale: false, impressionData: false, variants: [] } as const;
    const sdk = new OldUnleashSdk(
      [
        {
          ...negatedIn,
          strategies: [
            { name: 'default', parameters: {}, constraints: [{ contextName: 'accountId', operator: 'IN', values: ['acct-1'], inverted: true, caseInsensitive: false }] },
          ],
        },
      ],
      worstBehaviourOf(OLDEST_LEVEL),
    );
    // The salary-run account, excluded with `inverted`: the old SDK ignores the flag and says yes.
    expect(sdk.isEnabled('x', toUnleashContext({ accountId: 'acct-1' }))).toBe(true);
    const throwing = new OldUnleashSdk(
      [
        {
          ...negatedIn,
          strategies: [
            { name: 'default', parameters: {}, constraints: [{ contextName: 'age', operator: 'NUM_LT', values: ['18'], value: '18', inverted: false, caseInsensitive: false }] },
          ],
        },
      ],
      worstBehaviourOf(OLDEST_LEVEL),
    );
    expect(() => throwing.isEnabled('x', toUnleashContext({ age: '3' }))).toThrow();
  });
});
