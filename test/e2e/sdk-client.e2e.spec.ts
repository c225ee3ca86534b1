import { type ClientOptions, type EvaluationContext, type SwitchyardClient } from '@switchyard/client-sdk';
import { nextChange, waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';

/**
 * The SDK against the real service (real HTTP, fresh database, the embedded engine or PostgreSQL
 * with DATABASE_URL): changes made through GraphQL reach the SDK's decisions, and the SDK decides
 * exactly as the server's `evaluate` does.
 */
describe('SDK client against the service', () => {
  let t: TestApp;
  let token: string;
  // Background failures of the SDKs, returned by closeAll: none is expected unless a test passes its own onError.
  const sdks = new ClientFactory({ appName: 'sdk-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 2_000, pollIntervalMs: 500, backoff: { initialMs: 50, maxMs: 500 } });
  const sdk = (options: Partial<ClientOptions> = {}) => sdks.create(t.baseUrl, { token, ...options });

  /** Runs `mutate` and resolves with the SDK's change event that names `key`. */
  async function changeOf(client: SwitchyardClient, key: string, mutate: () => Promise<unknown>) {
    const change = nextChange(client, (e) => e.changedSlices.includes(key), 10_000);
    await mutate();
    return change;
  }

  const subjects = Array.from({ length: 1_000 }, (_, i) => ({ userId: `user-${i}` }));
  const paths = (client: SwitchyardClient, key: string) => subjects.map((s) => client.decide(key, s));

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '500' });
    token = await t.tokenFor('sdk');
  });
  afterEach(async () => {
    expect((await sdks.closeAll()).map((e) => `${e.code}: ${e.message}`)).toEqual([]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts streaming from the service, at the revision the service serves', async () => {
    const key = uniqueKey('sdk.start');
    await createSlice(t.admin, { key, percent: 100 });
    const client = await sdk();
    await waitFor(() => client.explain(key, subjects[0]).reason !== 'UNKNOWN_SLICE', 10_000, 'the slice');
    expect(client.status()).toMatchObject({ state: 'streaming', source: 'service', connected: true, lastError: null });
    expect(client.decide(key, subjects[0])).toBe('NEW');

    const res = await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
    const served = (await res.json()) as { revision: number };
    expect(client.status().revision).toBe(served.revision);
  });

  it('reflects setRollout, setTargeting, rollback and resume', async () => {
    const key = uniqueKey('sdk.lifecycle');
    const staff = uniqueKey('staff');
    const kenya = uniqueKey('kenya');
    await createSegment(t.admin, staff, [{ attribute: 'userId', operator: 'IN', values: ['user-1', 'user-2'] }]);
    await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    await createSlice(t.admin, { key, percent: 0 });
    const client = await sdk();
    await waitFor(() => client.explain(key, subjects[0]).reason !== 'UNKNOWN_SLICE', 10_000, 'the slice');
    expect(paths(client, key).every((p) => p === 'LEGACY')).toBe(true);

    // setRollout: 0 % -> 30 % -> 100 %; raising the share only moves subjects to NEW.
    let change = await changeOf(client, key, () => t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 30) { key } }', { key }));
    expect(change.changedSlices).toEqual([key]);
    const at30 = paths(client, key);
    const share = at30.filter((p) => p === 'NEW').length / at30.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    await changeOf(client, key, () => t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 100) { key } }', { key }));
    expect(paths(client, key).every((p) => p === 'NEW')).toBe(true);
    await changeOf(client, key, () => t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 30) { key } }', { key }));
    expect(paths(client, key)).toEqual(at30);

    // setTargeting: staff excluded, Kenya at 100 % by a rule.
    await changeOf(client, key, () =>
      t.admin.ok(
        'mutation($key: String!, $ex: [String!]!, $rule: [String!]!) { setTargeting(key: $key, reason: "test", exclude: $ex, rules: [{ segments: $rule, percent: 100 }]) { key } }',
        {
          key,
          ex: [staff],
          rule: [kenya],
        },
      ),
    );
    expect(client.explain(key, { userId: 'user-1', country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'EXCLUDED' });
    expect(client.explain(key, { userId: 'user-7', country: 'KE' })).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 0 });
    const configured = subjects.map((s) => client.explain(key, { ...s, country: s.userId.endsWith('3') ? 'KE' : 'US' }));

    // A segment change alone reaches the slices that use it.
    change = await changeOf(client, key, () =>
      t.admin.ok('mutation($key: String!) { updateSegment(key: $key, constraints: [{ attribute: "userId", operator: IN, values: ["user-1", "user-7"] }]) { key } }', {
        key: staff,
      }),
    );
    expect(change.changedSlices).toContain(key);
    expect(client.explain(key, { userId: 'user-7', country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'EXCLUDED' });
    await changeOf(client, key, () =>
      t.admin.ok('mutation($key: String!) { updateSegment(key: $key, constraints: [{ attribute: "userId", operator: IN, values: ["user-1", "user-2"] }]) { key } }', {
        key: staff,
      }),
    );

    // rollback: everyone to LEGACY, well under a second after the mutation is sent.
    const sent = Date.now();
    await changeOf(client, key, () => t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "e2e incident") { key } }', { key }));
    expect(Date.now() - sent).toBeLessThan(1_000);
    expect(subjects.every((s) => client.explain(key, { ...s, country: 'KE' }).reason === 'ROLLED_BACK')).toBe(true);

    // resume restores exactly the configuration before the rollback.
    await changeOf(client, key, () => t.admin.ok('mutation($key: String!) { resume(key: $key, reason: "fixed") { key } }', { key }));
    expect(subjects.map((s) => client.explain(key, { ...s, country: s.userId.endsWith('3') ? 'KE' : 'US' }))).toEqual(configured);
    expect(client.status().lastError).toBeNull();
  });

  it('reflects rollbackAll in every slice', async () => {
    const tag = uniqueKey('team').replace(/\./g, '-');
    const keys = [uniqueKey('sdk.all'), uniqueKey('sdk.all')];
    for (const key of keys) await t.admin.ok('mutation($key: String!, $tag: String!) { createSlice(key: $key, percent: 100, tags: [$tag]) { key } }', { key, tag });
    const client = await sdk();
    await waitFor(() => keys.every((k) => client.decide(k, subjects[0]) === 'NEW'), 10_000, 'the slices');
    const change = nextChange(client, (e) => keys.every((k) => e.changedSlices.includes(k)), 10_000);
    await t.admin.ok('mutation($tag: String!) { rollbackAll(tag: $tag, reason: "e2e") { count } }', { tag });
    await change;
    for (const key of keys) expect(client.explain(key, subjects[0])).toEqual({ path: 'LEGACY', reason: 'ROLLED_BACK' });
  });

  it('decides exactly as the server’s evaluate for 10,000 subjects across percentages, rules and segments', async () => {
    const seg = { staff: uniqueKey('staff'), africa: uniqueKey('africa'), beta: uniqueKey('beta'), vip: uniqueKey('vip'), adult: uniqueKey('adult') };
    await createSegment(t.admin, seg.staff, [{ attribute: 'userId', operator: 'IN', values: Array.from({ length: 300 }, (_, i) => `u-${i * 7}`) }]);
    await createSegment(t.admin, seg.africa, [{ attribute: 'country', operator: 'IN', values: ['KE', 'GH'], caseInsensitive: true }]);
    await createSegment(t.admin, seg.beta, [{ attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['2.0.0'] }]);
    await createSegment(t.admin, seg.vip, [{ attribute: 'plan', operator: 'STR_STARTS_WITH', values: ['vip'] }]);
    await createSegment(t.admin, seg.adult, [{ attribute: 'age', operator: 'NUM_GTE', values: ['18'], inverted: true }]);

    const slices: { key: string; percent: number; stickinessAttribute?: string; targeting?: object }[] = [
      { key: uniqueKey('eq.canary'), percent: 0.25 },
      {
        key: uniqueKey('eq.thirds'),
        percent: 33.33,
        stickinessAttribute: 'accountId',
        targeting: {
          rules: [
            { segments: [seg.africa], percent: 80 },
            { segments: [seg.beta, seg.africa], percent: 0 },
          ],
        },
      },
      { key: uniqueKey('eq.half'), percent: 50, targeting: { include: [seg.staff], exclude: [seg.vip], rules: [{ segments: [seg.beta], percent: 5.5 }] } },
      { key: uniqueKey('eq.most'), percent: 99.99, targeting: { exclude: [seg.adult], rules: [{ segments: [seg.africa, seg.beta], percent: 0 }] } },
      {
        key: uniqueKey('eq.whole'),
        percent: 7,
        targeting: {
          include: [seg.vip],
          rules: [
            { segments: [seg.staff], percent: 100 },
            { segments: [seg.africa], percent: 12.34 },
          ],
        },
      },
    ];
    for (const s of slices) await createSlice(t.admin, s);
    const client = await sdk();
    const last = slices.at(-1)!.key;
    await waitFor(() => client.explain(last, {}).reason !== 'UNKNOWN_SLICE', 10_000, 'the configuration');

    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    const pick = <T>(values: readonly T[]): T => values[random(values.length)] as T;
    const ids = (i: number): string | undefined => (i % 97 === 0 ? undefined : i % 13 === 0 ? `ü-${i}-café` : i % 31 === 0 ? '' : `u-${i}`);
    const cases: { slice: string; context: EvaluationContext }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const context: Record<string, string> = {};
      const put = (name: string, value: string | undefined) => {
        if (value !== undefined) context[name] = value;
      };
      put('userId', ids(i));
      put('accountId', pick([`acct-${i % 1_500}`, `acct-${i}`, undefined]));
      put('country', pick(['KE', 'gh', 'US', 'DE', undefined]));
      put('appVersion', pick(['1.9.0', '2.0.0', '2.1.0-beta.1', 'v2.0.0', '10.0.0', undefined]));
      put('plan', pick(['vip-gold', 'basic', 'VIP', undefined]));
      put('age', pick(['17', '18', '42', 'unknown', undefined]));
      cases.push({ slice: slices[i % slices.length]!.key, context });
    }

    // The server's answers: as many evaluate calls per request as the service allows aliases
    // (SWITCHYARD_MAX_QUERY_ALIASES, 20 by default), 4 requests at a time.
    type ServerDecision = { path: string; reason: string; ruleIndex: number | null };
    const BATCH = t.config.maxQueryAliases;
    const evaluateBatch = async (from: number): Promise<ServerDecision[]> => {
      const batch = cases.slice(from, from + BATCH);
      const params = batch.map((_, j) => `$s${j}: String!, $c${j}: Context!`).join(', ');
      const fields = batch.map((_, j) => `e${j}: evaluate(sliceKey: $s${j}, context: $c${j}) { path reason ruleIndex }`).join('\n');
      const variables = Object.fromEntries(
        batch.flatMap((c, j): [string, unknown][] => [
          [`s${j}`, c.slice],
          [`c${j}`, c.context],
        ]),
      );
      const data = await t.admin.ok<Record<string, ServerDecision>>(`query(${params}) { ${fields} }`, variables);
      return batch.map((_, j) => data[`e${j}`]!);
    };
    const server: ServerDecision[] = [];
    for (let from = 0; from < cases.length; from += 4 * BATCH) {
      const starts = [0, 1, 2, 3].map((k) => from + k * BATCH).filter((start) => start < cases.length);
      for (const answers of await Promise.all(starts.map(evaluateBatch))) server.push(...answers);
    }

    const mismatches = cases
      .map((c, i) => ({ ...c, sdk: client.explain(c.slice, c.context), server: server[i]! }))
      .filter(({ sdk, server: s }) => sdk.path !== s.path || sdk.reason !== s.reason || (sdk.ruleIndex ?? null) !== s.ruleIndex);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(server).toHaveLength(10_000);

    // The cases cover what they claim: every reason that targeting can give, both paths.
    const reasons = new Set(server.map((d) => d.reason));
    for (const reason of ['EXCLUDED', 'INCLUDED', 'RULE', 'ROLLOUT', 'NO_STICKINESS']) expect(reasons).toContain(reason);
    const onNew = server.filter((d) => d.path === 'NEW').length;
    expect(onNew).toBeGreaterThan(1_000);
    expect(onNew).toBeLessThan(9_000);
  });

  it('counts its decisions per slice and path', async () => {
    const key = uniqueKey('sdk.counts');
    await createSlice(t.admin, { key, percent: 100 });
    const client = await sdk();
    await waitFor(() => client.explain(key, {}).reason !== 'UNKNOWN_SLICE', 10_000, 'the slice');
    const before = client.counts()[key] ?? { NEW: 0, LEGACY: 0 };
    for (const s of subjects) client.decide(key, s);
    client.decide(key, {}); // 100 %: NEW without an id
    expect(client.counts()[key]).toEqual({ NEW: before.NEW + subjects.length + 1, LEGACY: before.LEGACY });
  });

  it('refuses a token without read access: reported, LEGACY everywhere, never thrown', async () => {
    const errors: string[] = [];
    const client = await sdk({ token: 'sy_not_a_real_token_at_all_000000', initTimeoutMs: 300, onError: (e) => errors.push(e.code) });
    expect(errors).toContain('UNAUTHORIZED');
    expect(client.status()).toMatchObject({ state: 'connecting', source: 'none', connected: false, lastError: { code: 'UNAUTHORIZED', httpStatus: 401 } });
    expect(client.decide('anything', subjects[0])).toBe('LEGACY');
  });
});
