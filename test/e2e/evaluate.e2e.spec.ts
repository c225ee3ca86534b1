import { readFileSync } from 'node:fs';
import {
  basisPointsToPercent,
  compileSnapshot,
  type Constraint,
  type Decision,
  type SegmentDefinition,
  type SliceDefinition,
  type SnapshotDefinition,
  SLICE_KEY_PATTERN,
  validateConstraint,
} from '@switchyard/client-sdk/core';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';

interface Vectors {
  snapshot: SnapshotDefinition;
  cases: { name: string; slice: string; context: Record<string, string>; now?: number; expected: Decision }[];
}
const vectors = JSON.parse(readFileSync('test/fixtures/decision-vectors.json', 'utf8')) as Vectors;

/**
 * The server's `evaluate` over configuration stored through the API gives the golden answers and
 * the same answers as the decision core over the intended configuration.
 *
 * The vectors' snapshot holds things the API refuses on purpose (segments that do not exist or use
 * an unknown operator: both match nobody). They are stored here as an equivalent segment the API
 * accepts, `IN []`, which also matches nobody, keeping every rule's index.
 */
describe('evaluate', () => {
  let t: TestApp;
  const NOBODY = 'nobody';
  const valid = (s: SegmentDefinition) => s.constraints.every((c) => validateConstraint(c).length === 0);
  const segments = new Map(vectors.snapshot.segments.map((s) => [s.key, s]));
  const storable = (key: string) => (segments.has(key) && valid(segments.get(key)!) ? key : NOBODY);
  const slices: SliceDefinition[] = vectors.snapshot.slices
    .filter((s) => Number.isInteger(s.basisPoints) && (s.rolledBackSegments === undefined || Array.isArray(s.rolledBackSegments)))
    .map((s) => ({
      ...s,
      ...(s.rolledBackSegments === undefined ? {} : { rolledBackSegments: [...new Set(s.rolledBackSegments.map(storable))] }),
      targeting: {
        include: s.targeting.include.map(storable),
        exclude: s.targeting.exclude.map(storable),
        rules: s.targeting.rules.map((r) => ({ segments: r.segments.map(storable), basisPoints: r.basisPoints })),
      },
    }));
  const timeDependent = new Set(
    slices
      .filter((s) =>
        [...s.targeting.include, ...s.targeting.exclude, ...s.targeting.rules.flatMap((r) => r.segments)].some((k) =>
          segments.get(k)?.constraints.some((c) => c.attribute === 'currentTime'),
        ),
      )
      .map((s) => s.key),
  );

  beforeAll(async () => {
    t = await createTestApp();
    const createSegment = 'mutation($key: String!, $constraints: [ConstraintInput!]!) { createSegment(key: $key, constraints: $constraints) { key } }';
    await t.admin.ok(createSegment, { key: NOBODY, constraints: [{ attribute: 'userId', operator: 'IN', values: [] }] });
    for (const segment of vectors.snapshot.segments.filter(valid)) {
      await t.admin.ok(createSegment, { key: segment.key, constraints: segment.constraints.map(toInput) });
    }
    for (const s of slices) {
      await t.admin.ok(
        `mutation($key: String!, $percent: Float!, $attr: String!, $targeting: TargetingInput) {
           createSlice(key: $key, percent: $percent, stickinessAttribute: $attr, targeting: $targeting) { key } }`,
        {
          key: s.key,
          percent: basisPointsToPercent(s.basisPoints),
          attr: s.stickinessAttribute,
          targeting: {
            include: s.targeting.include,
            exclude: s.targeting.exclude,
            rules: s.targeting.rules.map((r) => ({ segments: r.segments, percent: basisPointsToPercent(r.basisPoints) })),
          },
        },
      );
      for (const segment of s.rolledBackSegments ?? []) {
        await t.admin.ok('mutation($key: String!, $segment: String!) { rollbackSegment(key: $key, segment: $segment, reason: "vectors") { key } }', { key: s.key, segment });
      }
      if (s.state === 'ROLLED_BACK') await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "vectors") { key } }', { key: s.key });
      if (s.state === 'ARCHIVED') await t.admin.ok('mutation($key: String!) { archiveSlice(key: $key, reason: "test") { key } }', { key: s.key });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  async function serverDecision(slice: string, context: Record<string, string>): Promise<Decision> {
    const { evaluate } = await t.admin.ok<{ evaluate: { path: Decision['path']; reason: Decision['reason']; ruleIndex: number | null } }>(
      'query($slice: String!, $context: Context!) { evaluate(sliceKey: $slice, context: $context) { path reason ruleIndex } }',
      { slice, context },
    );
    return evaluate.ruleIndex === null ? { path: evaluate.path, reason: evaluate.reason } : { ...evaluate, ruleIndex: evaluate.ruleIndex };
  }

  it('gives the golden answer for every vector the API can store', async () => {
    const stored = new Set(slices.map((s) => s.key));
    const cases = vectors.cases.filter(
      (c) =>
        (stored.has(c.slice) || !vectors.snapshot.slices.some((s) => s.key === c.slice)) &&
        !timeDependent.has(c.slice) &&
        SLICE_KEY_PATTERN.test(c.slice) &&
        // The API refuses contexts that are not flat maps of strings (tested below); the core's
        // vectors include such hostile contexts for the SDK's sake.
        isFlatStringMap(c.context),
    );
    expect(cases.length).toBeGreaterThan(vectors.cases.length * 0.7);
    for (const c of cases) {
      const actual = await serverDecision(c.slice, c.context);
      expect({ name: c.name, ...actual }).toEqual({ name: c.name, ...c.expected });
    }
  });

  it('agrees with the decision core over the intended configuration for many subjects', async () => {
    const core = compileSnapshot({ revision: 1, slices, segments: vectors.snapshot.segments });
    const countries = ['KE', 'GH', 'NG', 'UG', 'ke'];
    const versions = ['2.2.9', '2.3.0', '2.3.0-rc.1', '3.0.0'];
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const context: Record<string, string> = {
        userId: `user-${i}`,
        accountId: i % 7 === 0 ? 'acc-1002' : `acc-${i}`,
        country: countries[i % countries.length]!,
        appVersion: versions[i % versions.length]!,
      };
      if (i % 11 === 0) context.email = `p${i}@switchyard.dev`;
      for (const s of slices.filter((x) => !timeDependent.has(x.key))) {
        expect(await serverDecision(s.key, context)).toEqual(core.explain(s.key, context));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // 300 subjects x every stored slice, one request each: minutes on a loaded machine.
  }, 240_000);

  it('refuses a context that is not a flat map of strings, without evaluating', async () => {
    for (const context of [{ userId: 42 }, { nested: { a: 'b' } }, ['userId'], 'userId=42']) {
      const error = await t.admin.error('query($context: Context!) { evaluate(sliceKey: "lab.full", context: $context) { path } }', { context });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('answers LEGACY / UNKNOWN_SLICE for a slice that does not exist', async () => {
    expect(await serverDecision('no.such.slice', { userId: '1' })).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
  });
});

function isFlatStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function toInput(c: Constraint) {
  return { attribute: c.attribute, operator: c.operator, values: [...c.values], inverted: c.inverted === true, caseInsensitive: c.caseInsensitive === true };
}
