import { IdempotencyRetention } from '../../src/changes/idempotency-retention.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, type SliceView, sliceHistory, uniqueKey } from '../utils/operations.js';

const SET_ROLLOUT = `mutation($key: String!, $percent: Float!, $idempotencyKey: String) {
  setRollout(key: $key, reason: "test", percent: $percent, idempotencyKey: $idempotencyKey) { key percent version updatedAt } }`;

describe('idempotency keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a retry with the same key and input returns the first result and writes nothing', async () => {
    const key = uniqueKey('retry');
    await createSlice(t.admin, { key });
    const idempotencyKey = `deploy-42-${key}`;
    const first = (await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 5, idempotencyKey })).setRollout;
    // Someone else changes the slice in between: the retry must still answer what the first call did.
    await t.admin.ok(SET_ROLLOUT, { key, percent: 7 });
    const retry = (await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 5, idempotencyKey })).setRollout;
    expect(retry).toEqual(first);
    expect((await sliceHistory(t.admin, key)).map((h) => h.action)).toEqual(['ROLLOUT_SET', 'ROLLOUT_SET', 'SLICE_CREATED']);
  });

  it('concurrent retries with one key write once', async () => {
    const key = uniqueKey('storm');
    await createSlice(t.admin, { key });
    const results = await Promise.all(Array.from({ length: 8 }, () => t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 10, idempotencyKey: `storm-${key}` })));
    expect(new Set(results.map((r) => r.setRollout.version))).toEqual(new Set([2]));
    expect(await sliceHistory(t.admin, key)).toHaveLength(2);
  });

  it('the same key with different input is refused, writing nothing', async () => {
    const key = uniqueKey('reuse');
    await createSlice(t.admin, { key });
    await t.admin.ok(SET_ROLLOUT, { key, percent: 5, idempotencyKey: `k-${key}` });
    const error = await t.admin.error(SET_ROLLOUT, { key, percent: 50, idempotencyKey: `k-${key}` });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'IDEMPOTENCY_KEY_REUSED' });
    const other = await t.admin.error('mutation($key: String!, $k: String) { rollback(key: $key, reason: "x", idempotencyKey: $k) { key } }', {
      key,
      k: `k-${key}`,
    });
    expect(other.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await sliceHistory(t.admin, key)).toHaveLength(2);
  });

  it('records the idempotency key and request id in history', async () => {
    const key = uniqueKey('traced');
    await createSlice(t.admin, { key });
    const res = await t.admin.request(SET_ROLLOUT, { key, percent: 1, idempotencyKey: `trace-${key}` }, { 'x-request-id': 'req-abc-123' });
    expect(res.errors).toBeUndefined();
    const [row] = await sliceHistory(t.admin, key);
    expect(row).toMatchObject({ idempotencyKey: `trace-${key}`, requestId: 'req-abc-123' });
  });

  it('works for rollbackAll and createSlice too', async () => {
    const tag = uniqueKey('idem').replace(/[^a-z0-9.-]/g, '-');
    const key = uniqueKey('idem-create');
    const create = `mutation($key: String!, $tag: String!) { createSlice(key: $key, tags: [$tag], idempotencyKey: "create-${key}") { key version } }`;
    const a = await t.admin.ok(create, { key, tag });
    const b = await t.admin.ok(create, { key, tag });
    expect(b).toEqual(a);
    const all = `mutation($tag: String!) { rollbackAll(reason: "outage", tag: $tag, idempotencyKey: "all-${tag}") { count sliceKeys } }`;
    const first = await t.admin.ok(all, { tag });
    const second = await t.admin.ok(all, { tag });
    expect(second).toEqual(first);
    expect(first).toEqual({ rollbackAll: { count: 1, sliceKeys: [key] } });
  });

  // Last: it deletes every key this suite recorded.
  it('keeps keys for the retention (7 days by default), then deletes them and the key is free again', async () => {
    const key = uniqueKey('retention');
    await createSlice(t.admin, { key });
    const idempotencyKey = `retention-${key}`;
    await t.admin.ok(SET_ROLLOUT, { key, percent: 5, idempotencyKey });
    const retention = t.app.get(IdempotencyRetention);
    const count = async () => Number((await t.dataSource.query<[{ n: string }]>('SELECT count(*)::text AS n FROM idempotency_keys WHERE key = $1', [idempotencyKey]))[0].n);

    // Six days on: kept, and a retry still returns the first result.
    await retention.prune(Date.now() + 6 * 24 * 3600_000);
    expect(await count()).toBe(1);
    expect((await t.admin.error(SET_ROLLOUT, { key, percent: 50, idempotencyKey })).extensions).toMatchObject({ errorCode: 'IDEMPOTENCY_KEY_REUSED' });

    // Eight days on: gone; the same key now names a new change.
    expect(await retention.prune(Date.now() + 8 * 24 * 3600_000)).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(0);
    const again = (await t.admin.ok<{ setRollout: SliceView }>(SET_ROLLOUT, { key, percent: 50, idempotencyKey })).setRollout;
    expect(again.percent).toBe(50);
  });
});
