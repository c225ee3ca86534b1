import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, evaluate, getSlice, SLICE_FIELDS, type SliceView, sliceHistory, uniqueKey } from '../utils/operations.js';

const SET_ROLLOUT = `mutation($key: String!, $percent: Float!, $expectedVersion: Int, $reason: String = "test") {
  setRollout(key: $key, percent: $percent, expectedVersion: $expectedVersion, reason: $reason) { ${SLICE_FIELDS} } }`;
const SET_TARGETING = `mutation($key: String!, $include: [String!]!, $exclude: [String!]!, $rules: [RuleInput!]!, $expectedVersion: Int) {
  setTargeting(key: $key, reason: "test", include: $include, exclude: $exclude, rules: $rules, expectedVersion: $expectedVersion) { ${SLICE_FIELDS} } }`;

describe('slices', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('createSlice', () => {
    it('creates a slice at 0 % by default, ACTIVE, version 1, with its history row', async () => {
      const key = uniqueKey('api.get-transactions');
      const slice = await createSlice(t.admin, { key, tags: ['payments', 'wave-1'], owner: 'team-ledger', description: 'GET /transactions' });
      expect(slice).toMatchObject({
        key,
        percent: 0,
        basisPoints: 0,
        state: 'ACTIVE',
        version: 1,
        stickinessAttribute: 'userId',
        tags: ['payments', 'wave-1'],
        owner: 'team-ledger',
        targeting: { include: [], exclude: [], rules: [] },
      });
      const [row] = await sliceHistory(t.admin, key);
      expect(row).toMatchObject({ action: 'SLICE_CREATED', before: null, actor: 'bootstrap-admin' });
      expect(row!.after).toMatchObject({ key, basisPoints: 0, state: 'ACTIVE', version: 1 });
    });

    it('refuses a key that breaks the pattern, naming the field', async () => {
      for (const key of ['Payments', '-x', '', 'a'.repeat(129), 'a b', 'é']) {
        const error = await t.admin.error('mutation($key: String!) { createSlice(key: $key) { key } }', { key });
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
      }
    });

    it('refuses a duplicate key with CONFLICT and leaves the first as it was', async () => {
      const key = uniqueKey('dup');
      await createSlice(t.admin, { key, percent: 5 });
      const error = await t.admin.error('mutation($key: String!) { createSlice(key: $key, percent: 50) { key } }', { key });
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_ALREADY_EXISTS' });
      expect((await getSlice(t.admin, key)).percent).toBe(5);
      expect(await sliceHistory(t.admin, key)).toHaveLength(1);
    });

    it('refuses targeting that names an unknown segment, with the field path', async () => {
      const key = uniqueKey('bad-target');
      const error = await t.admin.error('mutation($key: String!, $targeting: TargetingInput) { createSlice(key: $key, targeting: $targeting) { key } }', {
        key,
        targeting: { include: [], exclude: [], rules: [{ segments: ['no-such-segment'], percent: 20 }] },
      });
      expect(error.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        errorCode: 'UNKNOWN_SEGMENT_REFERENCE',
        field: 'targeting.rules[0].segments[0]',
      });
      const missing = await t.admin.error('query($key: String!) { slice(key: $key) { key } }', { key });
      expect(missing.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SLICE_NOT_FOUND' });
    });
  });

  describe('setRollout', () => {
    it('moves a slice 0 → 5 → 50 → 100 %, one version and one history row each', async () => {
      const key = uniqueKey('payments.provider.mpesa');
      await createSlice(t.admin, { key });
      for (const [i, percent] of [5, 50, 100].entries()) {
        const slice = (await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent, reason: `step ${i}` })).setRollout;
        expect(slice).toMatchObject({ percent, basisPoints: percent * 100, version: i + 2 });
      }
      const history = await sliceHistory(t.admin, key);
      expect(history.map((h) => h.action)).toEqual(['ROLLOUT_SET', 'ROLLOUT_SET', 'ROLLOUT_SET', 'SLICE_CREATED']);
      expect(history[0]).toMatchObject({ reason: 'step 2' });
      expect((history[0]!.before as SliceView).basisPoints).toBe(5000);
      expect((history[0]!.after as SliceView).basisPoints).toBe(10000);
    });

    it('accepts two decimals (0.25 %) and refuses three, negatives and more than 100', async () => {
      const key = uniqueKey('canary');
      await createSlice(t.admin, { key });
      expect((await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 0.25 })).setRollout).toMatchObject({
        percent: 0.25,
        basisPoints: 25,
      });
      expect((await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 12.34 })).setRollout.basisPoints).toBe(1234);
      for (const percent of [0.125, -1, 100.01, 250]) {
        const error = await t.admin.error(SET_ROLLOUT, { key, percent });
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'percent' });
      }
      const slice = await getSlice(t.admin, key);
      expect(slice).toMatchObject({ basisPoints: 1234, version: 3 });
    });

    it('refuses a stale expectedVersion with CONFLICT carrying the current version, writing nothing', async () => {
      const key = uniqueKey('versioned');
      await createSlice(t.admin, { key });
      await t.admin.ok(SET_ROLLOUT, { key, percent: 5, expectedVersion: 1 });
      const error = await t.admin.error(SET_ROLLOUT, { key, percent: 50, expectedVersion: 1 });
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_VERSION_CONFLICT', currentVersion: 2, expectedVersion: 1 });
      expect(await getSlice(t.admin, key)).toMatchObject({ percent: 5, version: 2 });
      expect(await sliceHistory(t.admin, key)).toHaveLength(2);
    });

    it('setting the percentage it already has changes nothing: same version, no history row', async () => {
      const key = uniqueKey('same');
      await createSlice(t.admin, { key, percent: 5 });
      const again = (await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 5 })).setRollout;
      expect(again).toMatchObject({ percent: 5, version: 1 });
      expect(await sliceHistory(t.admin, key)).toHaveLength(1);
    });

    it('answers NOT_FOUND for an unknown slice', async () => {
      const error = await t.admin.error(SET_ROLLOUT, { key: uniqueKey('ghost'), percent: 5 });
      expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SLICE_NOT_FOUND' });
    });

    it('serializes concurrent writers without expectedVersion: no lost update, no torn history', async () => {
      const key = uniqueKey('contended');
      await createSlice(t.admin, { key });
      const percents = Array.from({ length: 20 }, (_, i) => i + 1);
      const results = await Promise.all(percents.map((percent) => t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent })));
      // Every write got its own version: 2..21, each exactly once.
      expect(results.map((r) => r.setRollout.version).sort((a, b) => a - b)).toEqual(percents.map((p) => p + 1));
      const history = (await sliceHistory(t.admin, key)).reverse();
      expect(history).toHaveLength(21);
      // Each row's `before` is exactly the previous row's `after`: a single, untorn sequence.
      for (let i = 1; i < history.length; i++) expect(history[i]!.before).toEqual(history[i - 1]!.after);
      const final = await getSlice(t.admin, key);
      expect(final.version).toBe(21);
      expect(history[20]!.after).toMatchObject({ basisPoints: final.basisPoints, version: 21 });
    });
  });

  describe('setTargeting', () => {
    it('"staff 100 %, Kenya 20 %, everyone else 5 %, never the salary-run accounts"', async () => {
      const staff = uniqueKey('staff');
      const kenya = uniqueKey('kenya');
      const salary = uniqueKey('salary-run');
      await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], caseInsensitive: true }]);
      await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      await createSegment(t.admin, salary, [{ attribute: 'accountId', operator: 'IN', values: ['acc-1', 'acc-2', 'acc-3'] }]);
      const key = uniqueKey('api.payouts');
      await createSlice(t.admin, { key, percent: 5 });
      const slice = (
        await t.admin.ok<{ setTargeting: SliceView }>(SET_TARGETING, {
          key,
          include: [],
          exclude: [salary],
          rules: [
            { segments: [staff], percent: 100 },
            { segments: [kenya], percent: 20 },
          ],
          expectedVersion: 1,
        })
      ).setTargeting;
      expect(slice.targeting).toEqual({
        include: [],
        exclude: [salary],
        rules: [
          { segments: [staff], percent: 100, basisPoints: 10000 },
          { segments: [kenya], percent: 20, basisPoints: 2000 },
        ],
      });
      expect(slice.version).toBe(2);

      expect(await evaluate(t.admin, key, { userId: 'u1', email: 'Ana@EXAMPLE.com' })).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });
      expect(await evaluate(t.admin, key, { userId: 'u1', email: 'ana@example.com', accountId: 'acc-2' })).toEqual({
        path: 'LEGACY',
        reason: 'EXCLUDED',
        ruleIndex: null,
      });
      const kenyan = await evaluate(t.admin, key, { userId: 'u7', country: 'KE' });
      expect(kenyan).toMatchObject({ reason: 'RULE', ruleIndex: 1 });
      expect(await evaluate(t.admin, key, { country: 'GH' })).toMatchObject({ path: 'LEGACY', reason: 'NO_STICKINESS' });
      expect(await evaluate(t.admin, key, { userId: 'u7', country: 'GH' })).toMatchObject({ reason: 'ROLLOUT', ruleIndex: null });
    });

    it('refuses unknown segments with each field path, and changes nothing', async () => {
      const key = uniqueKey('targeted');
      await createSlice(t.admin, { key });
      const error = await t.admin.error(SET_TARGETING, {
        key,
        include: ['nope-a'],
        exclude: [],
        rules: [{ segments: ['nope-b'], percent: 10 }],
      });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'UNKNOWN_SEGMENT_REFERENCE', field: 'include[0]' });
      expect((error.extensions!.violations as { field: string }[]).map((v) => v.field)).toEqual(['include[0]', 'rules[0].segments[0]']);
      expect((await getSlice(t.admin, key)).version).toBe(1);
    });

    it('refuses a rule with a bad percentage, naming rules[i].percent', async () => {
      const key = uniqueKey('bad-rule');
      const segment = uniqueKey('seg');
      await createSegment(t.admin, segment, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      await createSlice(t.admin, { key });
      const error = await t.admin.error(SET_TARGETING, { key, include: [], exclude: [], rules: [{ segments: [segment], percent: 10.005 }] });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rules[0].percent' });
    });
  });

  describe('updateSlice and archiveSlice', () => {
    it('updates metadata only, keeping rollout and targeting', async () => {
      const key = uniqueKey('meta');
      await createSlice(t.admin, { key, percent: 30, tags: ['a'] });
      const updated = (
        await t.admin.ok<{ updateSlice: SliceView }>(
          `mutation($key: String!) { updateSlice(key: $key, description: "moved to v2", owner: "team-b", tags: ["b", "b", "c"]) { ${SLICE_FIELDS} } }`,
          { key },
        )
      ).updateSlice;
      expect(updated).toMatchObject({ description: 'moved to v2', owner: 'team-b', tags: ['b', 'c'], percent: 30, version: 2 });
      expect((await sliceHistory(t.admin, key))[0]!.action).toBe('SLICE_UPDATED');
    });

    it('archives: everyone on LEGACY, and no further change is accepted', async () => {
      const key = uniqueKey('done');
      await createSlice(t.admin, { key, percent: 100 });
      expect(await evaluate(t.admin, key, { userId: '1' })).toMatchObject({ path: 'NEW' });
      const archived = await t.admin.ok<{ archiveSlice: SliceView }>('mutation($key: String!) { archiveSlice(key: $key, reason: "legacy code deleted") { state version } }', {
        key,
      });
      expect(archived.archiveSlice).toEqual({ state: 'ARCHIVED', version: 2 });
      expect(await evaluate(t.admin, key, { userId: '1' })).toMatchObject({ path: 'LEGACY', reason: 'ARCHIVED' });
      const error = await t.admin.error(SET_ROLLOUT, { key, percent: 5 });
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_ARCHIVED' });
    });
  });

  describe('reasons for changes to who is on NEW', () => {
    /** The four exposure changes, each from the state it applies to, with the reason as a variable. */
    const EXPOSURE_CHANGES: Record<string, { prepare?: (key: string) => Promise<unknown>; query: string }> = {
      setRollout: { query: 'mutation($key: String!, $reason: String) { setRollout(key: $key, percent: 42, reason: $reason) { version } }' },
      setTargeting: { query: 'mutation($key: String!, $reason: String) { setTargeting(key: $key, rules: [], stickinessAttribute: "accountId", reason: $reason) { version } }' },
      resume: {
        prepare: (key) => t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "5xx") { version } }', { key }),
        query: 'mutation($key: String!, $reason: String) { resume(key: $key, reason: $reason) { version } }',
      },
      archiveSlice: { query: 'mutation($key: String!, $reason: String) { archiveSlice(key: $key, reason: $reason) { version } }' },
    };

    it.each(Object.keys(EXPOSURE_CHANGES))('%s without a reason, or a blank one, is refused on `reason` and writes nothing', async (name) => {
      const change = EXPOSURE_CHANGES[name]!;
      const key = uniqueKey(`why.${name.toLowerCase()}`);
      await createSlice(t.admin, { key, percent: 10 });
      await change.prepare?.(key);
      const before = await getSlice(t.admin, key);
      const historyBefore = await sliceHistory(t.admin, key);
      for (const reason of [undefined, null, '', '   ', '\t\n\u3000']) {
        const error = await t.admin.error(change.query, reason === undefined ? { key } : { key, reason });
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field: 'reason' });
      }
      expect(await getSlice(t.admin, key)).toEqual(before);
      expect(await sliceHistory(t.admin, key)).toEqual(historyBefore);
      // With one, it goes through, and history keeps it.
      await t.admin.ok(change.query, { key, reason: `ticket CHG-${name}` });
      expect((await sliceHistory(t.admin, key))[0]).toMatchObject({ reason: `ticket CHG-${name}`, actor: 'bootstrap-admin' });
    });

    it('are optional again with SWITCHYARD_REQUIRE_REASON=false (rollback still needs one)', async () => {
      const relaxed = await createTestApp({ SWITCHYARD_REQUIRE_REASON: 'false' });
      try {
        for (const name of Object.keys(EXPOSURE_CHANGES)) {
          const change = EXPOSURE_CHANGES[name]!;
          const key = uniqueKey(`why-not.${name.toLowerCase()}`);
          await createSlice(relaxed.admin, { key, percent: 10 });
          if (name === 'resume') await relaxed.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "5xx") { version } }', { key });
          const before = await getSlice(relaxed.admin, key);
          const after = await relaxed.admin.ok<Record<string, { version: number }>>(change.query, { key });
          expect(after[name]!.version).toBe(before.version + 1);
          expect((await sliceHistory(relaxed.admin, key))[0]!.reason).toBeNull();
        }
        const key = uniqueKey('why-not.rollback');
        await createSlice(relaxed.admin, { key });
        const error = await relaxed.admin.error('mutation($key: String!) { rollback(key: $key) { version } }', { key });
        expect(error.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      } finally {
        await relaxed.close();
      }
    });
  });

  describe('slices query', () => {
    it('pages by cursor and filters by tag and state', async () => {
      const tag = uniqueKey('wave').replace(/[^a-z0-9.-]/g, '-');
      const keys = Array.from({ length: 5 }, (_, i) => `${tag}.s${i}`);
      for (const key of keys) await createSlice(t.admin, { key, tags: [tag] });
      await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "test") { key } }', { key: keys[4] });

      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const data: { slices: { nodes: { key: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await t.admin.ok(
          'query($tag: String, $after: String) { slices(tag: $tag, first: 2, after: $after) { nodes { key } pageInfo { endCursor hasNextPage } } }',
          {
            tag,
            after,
          },
        );
        seen.push(...data.slices.nodes.map((n) => n.key));
        if (!data.slices.pageInfo.hasNextPage) break;
        after = data.slices.pageInfo.endCursor;
      }
      expect(seen).toEqual(keys);

      const rolledBack = await t.admin.ok<{ slices: { nodes: { key: string }[] } }>('query($tag: String) { slices(tag: $tag, state: ROLLED_BACK) { nodes { key } } }', { tag });
      expect(rolledBack.slices.nodes.map((n) => n.key)).toEqual([keys[4]]);
    });

    it('refuses a forged cursor and an out-of-range page size', async () => {
      const bad = await t.admin.error('{ slices(after: "not-a-cursor") { nodes { key } } }');
      expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      const big = await t.admin.error('{ slices(first: 100000) { nodes { key } } }');
      expect(big.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    });
  });
});
