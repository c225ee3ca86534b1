import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlError } from '../utils/graphql-client.js';

interface ConstraintInput {
  attribute: string;
  operator: string;
  values: string[];
  inverted?: boolean;
  caseInsensitive?: boolean;
}

interface SegmentView {
  key: string;
  description: string;
  constraints: Required<ConstraintInput>[];
  version: number;
  usedBy: string[];
  createdAt: string;
  updatedAt: string;
}

interface HistoryRow {
  sequence: string;
  action: string;
  actor: string;
  segmentKey: string | null;
  before: unknown;
  after: unknown;
}

const SEGMENT_FIELDS = 'key description constraints { attribute operator values inverted caseInsensitive } version usedBy createdAt updatedAt';
const CREATE_SEGMENT = `mutation($key: String!, $constraints: [ConstraintInput!]!, $description: String! = "") {
  createSegment(key: $key, constraints: $constraints, description: $description) { ${SEGMENT_FIELDS} } }`;
const UPDATE_SEGMENT = `mutation($key: String!, $constraints: [ConstraintInput!], $description: String, $expectedVersion: Int) {
  updateSegment(key: $key, constraints: $constraints, description: $description, expectedVersion: $expectedVersion) { ${SEGMENT_FIELDS} } }`;
const DELETE_SEGMENT = `mutation($key: String!, $expectedVersion: Int) {
  deleteSegment(key: $key, expectedVersion: $expectedVersion) { key version } }`;
const SET_TARGETING = `mutation($key: String!, $include: [String!]! = [], $exclude: [String!]! = [], $rules: [RuleInput!]! = []) {
  setTargeting(key: $key, reason: "test", include: $include, exclude: $exclude, rules: $rules) { version } }`;

/** One valid constraint per operator (the test below checks this covers the schema's enum). */
const VALID_BY_OPERATOR: Record<string, ConstraintInput> = {
  IN: { attribute: 'country', operator: 'IN', values: ['KE', 'GH'] },
  NOT_IN: { attribute: 'country', operator: 'NOT_IN', values: ['US'] },
  STR_STARTS_WITH: { attribute: 'phone', operator: 'STR_STARTS_WITH', values: ['+254'] },
  STR_ENDS_WITH: { attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], caseInsensitive: true },
  STR_CONTAINS: { attribute: 'plan', operator: 'STR_CONTAINS', values: ['staff', 'corporate'], inverted: true },
  NUM_EQ: { attribute: 'tier', operator: 'NUM_EQ', values: ['3'] },
  NUM_GT: { attribute: 'score', operator: 'NUM_GT', values: ['-1.5'] },
  NUM_GTE: { attribute: 'age', operator: 'NUM_GTE', values: ['18'] },
  NUM_LT: { attribute: 'balance', operator: 'NUM_LT', values: ['1e3'] },
  NUM_LTE: { attribute: 'age', operator: 'NUM_LTE', values: ['65.5'] },
  DATE_AFTER: { attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2024-03-01T09:30:00Z'] },
  DATE_BEFORE: { attribute: 'signupDate', operator: 'DATE_BEFORE', values: ['2030-01-01T00:00:00.5+03:00'] },
  SEMVER_EQ: { attribute: 'appVersion', operator: 'SEMVER_EQ', values: ['2.3.0'] },
  SEMVER_GT: { attribute: 'appVersion', operator: 'SEMVER_GT', values: ['2.3.0-rc.1'] },
  SEMVER_GTE: { attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['1.0.0+build.7'] },
  SEMVER_LT: { attribute: 'appVersion', operator: 'SEMVER_LT', values: ['10.0.0'] },
  SEMVER_LTE: { attribute: 'appVersion', operator: 'SEMVER_LTE', values: ['3.0.0-alpha'] },
};

const KENYA: ConstraintInput = { attribute: 'country', operator: 'IN', values: ['KE'] };

let counter = 0;
function unique(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}-${(++counter).toString(36)}`;
}

/** What the API returns for a constraint: both flags spelled out. */
function stored(c: ConstraintInput): Required<ConstraintInput> {
  return { inverted: false, caseInsensitive: false, ...c };
}

describe('segments', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function createSegment(key: string, constraints: ConstraintInput[], description = ''): Promise<SegmentView> {
    return (await t.admin.ok<{ createSegment: SegmentView }>(CREATE_SEGMENT, { key, constraints, description })).createSegment;
  }

  async function getSegment(key: string): Promise<SegmentView> {
    return (await t.admin.ok<{ segment: SegmentView }>(`query($key: String!) { segment(key: $key) { ${SEGMENT_FIELDS} } }`, { key })).segment;
  }

  /** The one error of a call expected to fail. */
  async function refusal(query: string, variables: Record<string, unknown>): Promise<GraphqlError> {
    return t.admin.error(query, variables);
  }

  async function expectSegmentAbsent(key: string): Promise<void> {
    const error = await refusal(`query($key: String!) { segment(key: $key) { key } }`, { key });
    expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SEGMENT_NOT_FOUND' });
  }

  async function segmentHistory(key: string): Promise<HistoryRow[]> {
    const data = await t.admin.ok<{ history: { nodes: HistoryRow[] } }>(
      'query($key: String!) { history(segmentKey: $key, first: 100) { nodes { sequence action actor segmentKey before after } } }',
      { key },
    );
    return data.history.nodes;
  }

  /** Every change writes a history row, so an unchanged newest sequence means nothing was written. */
  async function historyHead(): Promise<string | undefined> {
    const data = await t.admin.ok<{ history: { nodes: { sequence: string }[] } }>('{ history(first: 1) { nodes { sequence } } }');
    return data.history.nodes[0]?.sequence;
  }

  async function createSlice(key: string, targeting: { include?: string[]; exclude?: string[]; rules?: { segments: string[]; percent: number }[] }, percent = 0) {
    await t.admin.ok('mutation($key: String!, $percent: Float!, $targeting: TargetingInput) { createSlice(key: $key, percent: $percent, targeting: $targeting) { key } }', {
      key,
      percent,
      targeting: { include: [], exclude: [], rules: [], ...targeting },
    });
  }

  async function evaluate(sliceKey: string, context: Record<string, string>) {
    const data = await t.admin.ok<{ evaluate: { path: string; reason: string; ruleIndex: number | null } }>(
      'query($sliceKey: String!, $context: Context!) { evaluate(sliceKey: $sliceKey, context: $context) { path reason ruleIndex } }',
      { sliceKey, context },
    );
    return data.evaluate;
  }

  describe('create and read', () => {
    it('creates a segment at version 1, reads it back, and records who created it', async () => {
      const key = unique('kenya-staff');
      const constraints: ConstraintInput[] = [KENYA, { attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], caseInsensitive: true }];
      const created = await createSegment(key, constraints, 'Kenyan staff');
      expect(created).toMatchObject({ key, description: 'Kenyan staff', version: 1, usedBy: [], constraints: constraints.map(stored) });
      expect(await getSegment(key)).toEqual(created);

      const history = await segmentHistory(key);
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ action: 'SEGMENT_CREATED', actor: 'bootstrap-admin', segmentKey: key, before: null });
      expect(history[0]!.after).toMatchObject({ key, version: 1, constraints: constraints.map(stored) });
    });

    it('offers exactly the operators this file covers', async () => {
      const data = await t.admin.ok<{ __type: { enumValues: { name: string }[] } }>('{ __type(name: "ConstraintOperator") { enumValues { name } } }');
      expect(data.__type.enumValues.map((v) => v.name).sort()).toEqual(Object.keys(VALID_BY_OPERATOR).sort());
    });

    it.each(Object.entries(VALID_BY_OPERATOR))('accepts %s with valid values', async (_operator, constraint) => {
      const key = unique('op');
      const created = await createSegment(key, [constraint]);
      expect(created.constraints).toEqual([stored(constraint)]);
      expect((await getSegment(key)).constraints).toEqual([stored(constraint)]);
    });

    it('accepts every operator in one segment, all of which must hold', async () => {
      const key = unique('all-ops');
      const constraints = Object.values(VALID_BY_OPERATOR);
      expect((await createSegment(key, constraints)).constraints).toEqual(constraints.map(stored));
    });

    it('refuses a duplicate key with SEGMENT_ALREADY_EXISTS and keeps the first', async () => {
      const key = unique('dup');
      await createSegment(key, [KENYA]);
      const error = await refusal(CREATE_SEGMENT, { key, constraints: [{ attribute: 'country', operator: 'IN', values: ['GH'] }] });
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_ALREADY_EXISTS' });
      expect((await getSegment(key)).constraints).toEqual([stored(KENYA)]);
      expect(await segmentHistory(key)).toHaveLength(1);
    });

    it('answers SEGMENT_NOT_FOUND for an unknown key, to reads, updates and deletes', async () => {
      const key = unique('ghost');
      await expectSegmentAbsent(key);
      const update = await refusal(UPDATE_SEGMENT, { key, description: 'x' });
      expect(update.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SEGMENT_NOT_FOUND' });
      const del = await refusal(DELETE_SEGMENT, { key });
      expect(del.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SEGMENT_NOT_FOUND' });
      expect(await segmentHistory(key)).toEqual([]);
    });

    it('refuses a key that breaks the pattern, naming the field', async () => {
      const error = await refusal(CREATE_SEGMENT, { key: 'Not A Key', constraints: [KENYA] });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
    });
  });

  describe('list', () => {
    it('pages through every segment in key order with first / after / hasNextPage', async () => {
      const prefix = unique('page');
      const mine = ['a', 'b', 'c', 'd', 'e'].map((suffix) => `${prefix}.${suffix}`);
      for (const key of [...mine].reverse()) await createSegment(key, [KENYA]);

      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: { segments: { nodes: { key: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await t.admin.ok(
          'query($after: String) { segments(first: 2, after: $after) { nodes { key } pageInfo { endCursor hasNextPage } } }',
          { after },
        );
        const page = data.segments;
        expect(page.nodes.length).toBeLessThanOrEqual(2);
        seen.push(...page.nodes.map((n) => n.key));
        if (!page.pageInfo.hasNextPage) break;
        expect(page.nodes).toHaveLength(2);
        expect(page.pageInfo.endCursor).toEqual(expect.any(String));
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual([...new Set(seen)].sort());
      expect(seen.filter((k) => k.startsWith(`${prefix}.`))).toEqual(mine);
    });

    it('refuses a page size out of range and a cursor it did not issue', async () => {
      for (const first of [0, 501]) {
        const error = await refusal('query($first: Int!) { segments(first: $first) { nodes { key } } }', { first });
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      }
      const error = await refusal('{ segments(after: "not-a-cursor") { nodes { key } } }', {});
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  describe('values are validated when saved', () => {
    it.each<[string, ConstraintInput[], string]>([
      ['NUM_GT "abc"', [{ attribute: 'age', operator: 'NUM_GT', values: ['abc'] }], 'constraints[0].values[0]'],
      ['NUM_EQ "0x10"', [{ attribute: 'tier', operator: 'NUM_EQ', values: ['0x10'] }], 'constraints[0].values[0]'],
      ['DATE_AFTER a date without a time', [{ attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2024-03-01'] }], 'constraints[0].values[0]'],
      ['DATE_BEFORE a time without a zone', [{ attribute: 'currentTime', operator: 'DATE_BEFORE', values: ['2024-03-01T09:30:00'] }], 'constraints[0].values[0]'],
      ['SEMVER_GT "v1.2.3"', [{ attribute: 'appVersion', operator: 'SEMVER_GT', values: ['v1.2.3'] }], 'constraints[0].values[0]'],
      ['SEMVER_EQ "1.2"', [{ attribute: 'appVersion', operator: 'SEMVER_EQ', values: ['1.2'] }], 'constraints[0].values[0]'],
      ['NUM_EQ with no value', [{ attribute: 'tier', operator: 'NUM_EQ', values: [] }], 'constraints[0].values'],
      ['DATE_AFTER with two values', [{ attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2024-03-01T00:00:00Z', '2025-03-01T00:00:00Z'] }], 'constraints[0].values'],
      ['SEMVER_LT with two values', [{ attribute: 'appVersion', operator: 'SEMVER_LT', values: ['1.0.0', '2.0.0'] }], 'constraints[0].values'],
      ['a bad value in the second constraint', [KENYA, { attribute: 'balance', operator: 'NUM_LT', values: ['ten'] }], 'constraints[1].values[0]'],
      ['an IN value with surrounding whitespace', [{ attribute: 'country', operator: 'IN', values: ['KE', ' GH'] }], 'constraints[0].values[1]'],
      ['an attribute that is not a name', [{ attribute: 'has space', operator: 'IN', values: ['x'] }], 'constraints[0].attribute'],
    ])('refuses %s with BAD_USER_INPUT at its field, writing nothing', async (_label, constraints, field) => {
      const key = unique('bad');
      const head = await historyHead();
      const error = await refusal(CREATE_SEGMENT, { key, constraints });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field });
      await expectSegmentAbsent(key);
      expect(await segmentHistory(key)).toEqual([]);
      expect(await historyHead()).toBe(head);
    });

    it('refuses a bad value on update too, leaving the segment as it was', async () => {
      const key = unique('bad-update');
      const before = await createSegment(key, [KENYA]);
      const error = await refusal(UPDATE_SEGMENT, { key, constraints: [KENYA, { attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['v2'] }] });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'constraints[1].values[0]' });
      expect(await getSegment(key)).toEqual(before);
      expect(await segmentHistory(key)).toHaveLength(1);
    });

    it("refuses an unknown operator with GraphQL's own codes, writing nothing", async () => {
      const key = unique('unknown-op');
      const head = await historyHead();
      // As a variable: GraphQL's input coercion.
      const asVariable = await refusal(CREATE_SEGMENT, { key, constraints: [{ attribute: 'a', operator: 'REGEX', values: ['.*'] }] });
      expect(asVariable.extensions?.code).toBe('BAD_USER_INPUT');
      // Inline: document validation.
      const inline = await refusal(`mutation($key: String!) { createSegment(key: $key, constraints: [{ attribute: "a", operator: REGEX, values: [".*"] }]) { key } }`, { key });
      expect(inline.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      await expectSegmentAbsent(key);
      expect(await historyHead()).toBe(head);
    });

    it('accepts an explicit list of 10,000 subjects and refuses 10,001', async () => {
      const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
      const key = unique('beta-testers');
      const created = await createSegment(key, [{ attribute: 'userId', operator: 'IN', values: ids }]);
      expect(created.constraints[0]!.values).toHaveLength(10_000);
      const sliceKey = unique('beta');
      await createSlice(sliceKey, { include: [key] });
      expect(await evaluate(sliceKey, { userId: 'user-9999' })).toEqual({ path: 'NEW', reason: 'INCLUDED', ruleIndex: null });
      expect(await evaluate(sliceKey, { userId: 'user-10000' })).toMatchObject({ path: 'LEGACY', reason: 'ROLLOUT' });

      const tooMany = unique('too-many');
      const error = await refusal(CREATE_SEGMENT, { key: tooMany, constraints: [{ attribute: 'userId', operator: 'IN', values: [...ids, 'user-10000'] }] });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'constraints[0].values' });
      await expectSegmentAbsent(tooMany);
    });
  });

  describe('update', () => {
    it('replaces description and constraints, one version and one history row each time', async () => {
      const key = unique('update');
      await createSegment(key, [KENYA], 'Kenya');
      const ghana: ConstraintInput = { attribute: 'country', operator: 'IN', values: ['GH'] };
      const v2 = (await t.admin.ok<{ updateSegment: SegmentView }>(UPDATE_SEGMENT, { key, constraints: [ghana], expectedVersion: 1 })).updateSegment;
      expect(v2).toMatchObject({ version: 2, description: 'Kenya', constraints: [stored(ghana)] });
      const v3 = (await t.admin.ok<{ updateSegment: SegmentView }>(UPDATE_SEGMENT, { key, description: 'Ghana' })).updateSegment;
      expect(v3).toMatchObject({ version: 3, description: 'Ghana', constraints: [stored(ghana)] });
      expect(await getSegment(key)).toEqual(v3);

      const history = await segmentHistory(key);
      expect(history.map((h) => h.action)).toEqual(['SEGMENT_UPDATED', 'SEGMENT_UPDATED', 'SEGMENT_CREATED']);
      expect(history[1]!.before).toMatchObject({ version: 1, constraints: [stored(KENYA)] });
      expect(history[1]!.after).toMatchObject({ version: 2, constraints: [stored(ghana)] });
    });

    it('refuses a stale expectedVersion with CONFLICT carrying the current version, writing nothing', async () => {
      const key = unique('stale');
      await createSegment(key, [KENYA]);
      await t.admin.ok(UPDATE_SEGMENT, { key, description: 'second' });
      const error = await refusal(UPDATE_SEGMENT, { key, description: 'third', expectedVersion: 1 });
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_VERSION_CONFLICT', currentVersion: 2 });
      expect(await getSegment(key)).toMatchObject({ version: 2, description: 'second' });
      const del = await refusal(DELETE_SEGMENT, { key, expectedVersion: 1 });
      expect(del.extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
      expect(await segmentHistory(key)).toHaveLength(2);
    });

    it('changes the decisions of every slice that uses it, at once', async () => {
      const staff = unique('staff');
      const blocked = unique('salary-run');
      const country = unique('country');
      await createSegment(staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] }]);
      await createSegment(blocked, [{ attribute: 'accountId', operator: 'IN', values: ['acme'] }]);
      await createSegment(country, [KENYA]);
      const sliceKey = unique('payments.provider.mpesa');
      await createSlice(sliceKey, { include: [staff], exclude: [blocked], rules: [{ segments: [country], percent: 100 }] }, 0);

      const kenyan = { userId: '1', country: 'KE' };
      const ghanaian = { userId: '2', country: 'GH' };
      expect(await evaluate(sliceKey, kenyan)).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });
      expect(await evaluate(sliceKey, ghanaian)).toEqual({ path: 'LEGACY', reason: 'ROLLOUT', ruleIndex: null });
      expect(await evaluate(sliceKey, { userId: '3', email: 'ops@example.com' })).toEqual({ path: 'NEW', reason: 'INCLUDED', ruleIndex: null });

      await t.admin.ok(UPDATE_SEGMENT, { key: country, constraints: [{ attribute: 'country', operator: 'IN', values: ['GH'] }] });
      expect(await evaluate(sliceKey, kenyan)).toEqual({ path: 'LEGACY', reason: 'ROLLOUT', ruleIndex: null });
      expect(await evaluate(sliceKey, ghanaian)).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });

      // Exclude always wins, even over include.
      await t.admin.ok(UPDATE_SEGMENT, { key: blocked, constraints: [{ attribute: 'email', operator: 'STR_STARTS_WITH', values: ['ops@'] }] });
      expect(await evaluate(sliceKey, { userId: '3', email: 'ops@example.com' })).toEqual({ path: 'LEGACY', reason: 'EXCLUDED', ruleIndex: null });
    });
  });

  describe('delete and usedBy', () => {
    it('deletes an unused segment, returning it, with a history row', async () => {
      const key = unique('unused');
      await createSegment(key, [KENYA]);
      const deleted = (await t.admin.ok<{ deleteSegment: { key: string; version: number } }>(DELETE_SEGMENT, { key, expectedVersion: 1 })).deleteSegment;
      expect(deleted).toEqual({ key, version: 1 });
      await expectSegmentAbsent(key);
      const history = await segmentHistory(key);
      expect(history.map((h) => h.action)).toEqual(['SEGMENT_DELETED', 'SEGMENT_CREATED']);
      expect(history[0]).toMatchObject({ before: expect.objectContaining({ key }), after: null });
    });

    it('lists the slices that name a segment in usedBy, and refuses to delete it until none does', async () => {
      const key = unique('in-use');
      await createSegment(key, [KENYA]);
      const [first, second] = [unique('slice-a'), unique('slice-b')].sort() as [string, string];
      await createSlice(first, { include: [key] });
      await createSlice(second, { rules: [{ segments: [key], percent: 20 }] });
      expect((await getSegment(key)).usedBy).toEqual([first, second]);

      const head = await historyHead();
      const refused = await refusal(DELETE_SEGMENT, { key });
      expect(refused.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_IN_USE', usedBy: [first, second] });
      expect(await getSegment(key)).toMatchObject({ version: 1 });
      expect(await historyHead()).toBe(head);

      await t.admin.ok(SET_TARGETING, { key: first });
      expect((await getSegment(key)).usedBy).toEqual([second]);
      const stillRefused = await refusal(DELETE_SEGMENT, { key });
      expect(stillRefused.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_IN_USE', usedBy: [second] });

      await t.admin.ok(SET_TARGETING, { key: second });
      expect((await getSegment(key)).usedBy).toEqual([]);
      await t.admin.ok(DELETE_SEGMENT, { key });
      await expectSegmentAbsent(key);
    });

    it('counts exclude as a use too', async () => {
      const key = unique('excluded');
      await createSegment(key, [KENYA]);
      const sliceKey = unique('slice-x');
      await createSlice(sliceKey, { exclude: [key] });
      const listed = await t.admin.ok<{ segments: { nodes: { key: string; usedBy: string[] }[] } }>('{ segments(first: 500) { nodes { key usedBy } } }');
      expect(listed.segments.nodes.find((s) => s.key === key)?.usedBy).toEqual([sliceKey]);
      const refused = await refusal(DELETE_SEGMENT, { key });
      expect(refused.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_IN_USE', usedBy: [sliceKey] });
    });
  });
});
