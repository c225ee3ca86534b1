import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, evaluate, getSlice, SLICE_FIELDS, type SliceView, sliceHistory, uniqueKey } from '../utils/operations.js';

const ROLLBACK = `mutation($key: String!, $reason: String!) { rollback(key: $key, reason: $reason) { ${SLICE_FIELDS} } }`;
const RESUME = `mutation($key: String!, $reason: String!) { resume(key: $key, reason: $reason) { ${SLICE_FIELDS} } }`;
const ROLLBACK_ALL = 'mutation($reason: String!, $tag: String) { rollbackAll(reason: $reason, tag: $tag) { count sliceKeys } }';

describe('rollback, rollbackAll and resume', () => {
  let t: TestApp;
  let responder: string;
  beforeAll(async () => {
    t = await createTestApp();
    responder = await t.tokenFor('incident-responder', 'on-call-sre');
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A slice with a rollout and targeting, so "restores exactly" has something to restore. */
  async function configuredSlice(tags: string[] = []): Promise<SliceView> {
    const segment = uniqueKey('beta-testers');
    await createSegment(t.admin, segment, [{ attribute: 'userId', operator: 'IN', values: ['u1', 'u2'] }]);
    return createSlice(t.admin, {
      key: uniqueKey('payments.provider'),
      percent: 37.5,
      tags,
      targeting: { include: [segment], exclude: [], rules: [{ segments: [segment], percent: 80 }] },
    });
  }

  it('sends everyone to LEGACY in one call by an incident responder, keeping the configuration', async () => {
    const slice = await configuredSlice();
    expect(await evaluate(t.admin, slice.key, { userId: 'u1' })).toMatchObject({ path: 'NEW', reason: 'INCLUDED' });

    const rolledBack = (await t.as(responder).ok<{ rollback: SliceView }>(ROLLBACK, { key: slice.key, reason: 'error rate 12 % on v2' })).rollback;
    expect(rolledBack).toMatchObject({ state: 'ROLLED_BACK', version: 2, percent: 37.5, targeting: slice.targeting });
    expect(await evaluate(t.admin, slice.key, { userId: 'u1' })).toEqual({ path: 'LEGACY', reason: 'ROLLED_BACK', ruleIndex: null });

    const [row] = await sliceHistory(t.admin, slice.key);
    expect(row).toMatchObject({ action: 'SLICE_ROLLED_BACK', actor: 'on-call-sre', reason: 'error rate 12 % on v2' });
  });

  it('resume restores exactly the configuration before the rollback', async () => {
    const slice = await configuredSlice();
    await t.admin.ok(ROLLBACK, { key: slice.key, reason: 'incident 42' });
    const resumed = (await t.admin.ok<{ resume: SliceView }>(RESUME, { key: slice.key, reason: 'fixed in v2.0.1' })).resume;
    const { version: _v1, updatedAt: _u1, ...before } = slice;
    const { version, updatedAt: _u2, ...after } = resumed;
    expect(after).toEqual(before);
    expect(version).toBe(3);
    expect(await evaluate(t.admin, slice.key, { userId: 'u1' })).toMatchObject({ path: 'NEW', reason: 'INCLUDED' });
  });

  it('requires a non-empty reason', async () => {
    const slice = await configuredSlice();
    for (const reason of ['', '   ']) {
      const error = await t.admin.error(ROLLBACK, { key: slice.key, reason });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    }
    const missing = await t.admin.error('mutation($key: String!) { rollback(key: $key) { key } }', { key: slice.key });
    expect(missing.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await getSlice(t.admin, slice.key)).state).toBe('ACTIVE');
  });

  it('rolling back a slice already on LEGACY succeeds and writes nothing', async () => {
    const slice = await configuredSlice();
    await t.admin.ok(ROLLBACK, { key: slice.key, reason: 'first' });
    const again = (await t.admin.ok<{ rollback: SliceView }>(ROLLBACK, { key: slice.key, reason: 'second' })).rollback;
    expect(again).toMatchObject({ state: 'ROLLED_BACK', version: 2 });
    expect(await sliceHistory(t.admin, slice.key)).toHaveLength(2);
  });

  it('refuses configuration changes while rolled back, and resume of an ACTIVE slice', async () => {
    const slice = await configuredSlice();
    const notRolledBack = await t.admin.error(RESUME, { key: slice.key, reason: 'nothing to resume' });
    expect(notRolledBack.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_NOT_ROLLED_BACK' });
    await t.admin.ok(ROLLBACK, { key: slice.key, reason: 'incident' });
    const error = await t.admin.error('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 90) { key } }', { key: slice.key });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_NOT_ACTIVE' });
  });

  it('an incident responder may not resume or change rollouts', async () => {
    const slice = await configuredSlice();
    await t.as(responder).ok(ROLLBACK, { key: slice.key, reason: 'incident' });
    const error = await t.as(responder).error(RESUME, { key: slice.key, reason: 'all good' });
    expect(error.extensions?.code).toBe('FORBIDDEN');
    expect((await getSlice(t.admin, slice.key)).state).toBe('ROLLED_BACK');
  });

  it('rollbackAll(tag) rolls back every ACTIVE slice with the tag and no other', async () => {
    const tag = uniqueKey('provider-wave').replace(/[^a-z0-9.-]/g, '-');
    const tagged = [await configuredSlice([tag]), await configuredSlice([tag]), await configuredSlice([tag])];
    const other = await configuredSlice(['unrelated']);
    await t.admin.ok(ROLLBACK, { key: tagged[2]!.key, reason: 'already off' });

    const result = (await t.as(responder).ok<{ rollbackAll: { count: number; sliceKeys: string[] } }>(ROLLBACK_ALL, { reason: 'provider outage', tag })).rollbackAll;
    expect(result.count).toBe(2);
    expect(result.sliceKeys.sort()).toEqual([tagged[0]!.key, tagged[1]!.key].sort());
    for (const s of tagged) expect((await getSlice(t.admin, s.key)).state).toBe('ROLLED_BACK');
    expect((await getSlice(t.admin, other.key)).state).toBe('ACTIVE');

    const global = await t.admin.ok<{ history: { nodes: { action: string; sliceKey: string | null; after: { tag: string; sliceKeys: string[] }; actor: string }[] } }>(
      '{ history(first: 5) { nodes { action sliceKey after actor } } }',
    );
    const call = global.history.nodes.find((n) => n.action === 'ROLLBACK_ALL')!;
    expect(call).toMatchObject({ sliceKey: null, actor: 'on-call-sre', after: { tag } });
    expect(call.after.sliceKeys.sort()).toEqual(result.sliceKeys.sort());
  });

  it('rollbackAll without a tag rolls back every ACTIVE slice', async () => {
    await configuredSlice();
    await configuredSlice(['x']);
    const result = (await t.admin.ok<{ rollbackAll: { count: number } }>(ROLLBACK_ALL, { reason: 'big red button' })).rollbackAll;
    expect(result.count).toBeGreaterThanOrEqual(2);
    const active = await t.admin.ok<{ slices: { nodes: unknown[] } }>('{ slices(state: ACTIVE) { nodes { key } } }');
    expect(active.slices.nodes).toHaveLength(0);
  });

  it('rollbackAll is all or nothing: a failure on one slice leaves every slice as it was', async () => {
    const tag = uniqueKey('atomic').replace(/[^a-z0-9.-]/g, '-');
    const slices = [await configuredSlice([tag]), await configuredSlice([tag]), await configuredSlice([tag])];
    const before = await t.admin.ok<{ verifyHistory: { checkedRows: number } }>('{ verifyHistory { checkedRows } }');
    // Make the database itself refuse the update of the last slice, mid-transaction.
    const poisoned = slices[2]!.key;
    await t.dataSource.query(`
      CREATE FUNCTION test_refuse_poisoned() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.key = '${poisoned}' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$`);
    await t.dataSource.query('CREATE TRIGGER test_poison BEFORE UPDATE ON slices FOR EACH ROW EXECUTE FUNCTION test_refuse_poisoned()');
    try {
      const error = await t.admin.error(ROLLBACK_ALL, { reason: 'partial?', tag });
      expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error.message).not.toContain('poisoned');
    } finally {
      await t.dataSource.query('DROP TRIGGER test_poison ON slices');
      await t.dataSource.query('DROP FUNCTION test_refuse_poisoned()');
    }
    for (const s of slices) expect(await getSlice(t.admin, s.key)).toMatchObject({ state: 'ACTIVE', version: 1 });
    const after = await t.admin.ok<{ verifyHistory: { checkedRows: number; ok: boolean } }>('{ verifyHistory { ok checkedRows } }');
    expect(after.verifyHistory).toEqual({ ok: true, checkedRows: before.verifyHistory.checkedRows });
  });
});
