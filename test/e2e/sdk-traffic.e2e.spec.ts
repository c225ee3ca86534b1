import { type ClientOptions, type SwitchyardClient } from '@switchyard/client-sdk';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { TcpProxy } from '../utils/tcp-proxy.js';
import { readTraffic, readUntil } from '../utils/traffic.js';

/**
 * The SDK's usage reports against the real service (real HTTP, the embedded engine or PostgreSQL
 * with DATABASE_URL): what the SDKs decided shows in GraphQL as the slice's traffic, per app, and
 * each instance as a follower holding a revision; a rollback shows who has it within seconds.
 */
describe('SDK usage reports against the service', () => {
  let t: TestApp;
  let token: string;

  const sdks = new ClientFactory({ appName: 'sdk-traffic-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 2_000, pollIntervalMs: 500, backoff: { initialMs: 50, maxMs: 500 } });
  const errors = sdks.errors;
  const sdk = (options: Partial<ClientOptions> = {}) => sdks.create(t.baseUrl, { token, ...options });

  const traffic = (key: string, within?: number) => readTraffic(t.admin, key, within === undefined ? {} : { within });
  const subjects = (n: number, prefix = 'user') => Array.from({ length: n }, (_, i) => ({ userId: `${prefix}-${i}` }));

  /** The revision of the last configuration change (what a client must hold to know a new slice). */
  async function headRevision(): Promise<number> {
    const rows: { r: string }[] = await t.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
    return Number(rows[0]!.r);
  }

  /** Waits until the service serves `revision` (the snapshot follows commits asynchronously). */
  async function served(revision: number): Promise<void> {
    await waitFor(
      async () => Number(JSON.parse((await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } })).headers.get('etag') ?? '0')) >= revision,
      10_000,
      `the service at revision ${revision}`,
    );
  }

  /** Waits until `client` holds `revision` (without deciding anything: decisions are counted). */
  async function holds(client: SwitchyardClient, revision: number): Promise<void> {
    await waitFor(() => (client.status().revision ?? 0) >= revision, 10_000, `revision ${revision}`);
  }

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100', SWITCHYARD_STREAM_HEARTBEAT_MS: '500' });
    token = await t.tokenFor('sdk');
  });
  afterEach(async () => {
    // Kept across tests: later ones check that none came up.
    errors.push(...(await sdks.closeAll()));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a 30 % slice decided by three instances of two apps: the counts, per app, and the real NEW share', async () => {
    const key = uniqueKey('traffic.sdk30');
    await createSlice(t.admin, { key, percent: 30 });
    const instances = [
      await sdk({ appName: 'checkout-api', instanceId: 'checkout-1', metricsIntervalMs: 200 }),
      await sdk({ appName: 'checkout-api', instanceId: 'checkout-2', metricsIntervalMs: 200 }),
      await sdk({ appName: 'billing-api', instanceId: 'billing-1', metricsIntervalMs: 200 }),
    ];
    const created = await headRevision();
    for (const c of instances) await holds(c, created);
    const onNew = { 'checkout-api': 0, 'billing-api': 0 };
    const decided = { 'checkout-api': 0, 'billing-api': 0 };
    const everyone = subjects(6_000);
    everyone.forEach((subject, i) => {
      const client = instances[i % 3]!;
      const app = i % 3 === 2 ? 'billing-api' : 'checkout-api';
      decided[app]++;
      if (client.decide(key, subject) === 'NEW') onNew[app]++;
    });
    // Everything the SDKs counted, which is what they decided.
    const counted = (list: SwitchyardClient[]) =>
      list.reduce((sum, c) => ({ new: sum.new + (c.counts()[key]?.NEW ?? 0), legacy: sum.legacy + (c.counts()[key]?.LEGACY ?? 0) }), { new: 0, legacy: 0 });
    const all = counted(instances);
    expect(all.new).toBe(onNew['checkout-api'] + onNew['billing-api']);
    const total = all.new + all.legacy;
    expect(total).toBe(everyone.length);

    // Each field is its own query, and a flush may land between them: wait until every one has it all.
    const view = await readUntil(
      () => traffic(key),
      (v) =>
        v.traffic.last5Minutes.total >= total &&
        v.traffic.byApp.reduce((n, a) => n + a.new + a.legacy, 0) >= total &&
        v.traffic.buckets.reduce((n, b) => n + b.new + b.legacy, 0) >= total,
      'the reports',
    );
    expect(view.traffic.last5Minutes).toEqual({ ...all, total, newShare: all.new / total });
    // What a release manager who set 30 % sees: the share that really went NEW.
    expect(view.traffic.last5Minutes.newShare).toBeGreaterThan(0.27);
    expect(view.traffic.last5Minutes.newShare).toBeLessThan(0.33);
    expect(view.traffic.byApp).toEqual([
      { appName: 'billing-api', ...counted([instances[2]!]) },
      { appName: 'checkout-api', ...counted([instances[0]!, instances[1]!]) },
    ]);
    expect(view.traffic.byApp.map((a) => a.new + a.legacy)).toEqual([decided['billing-api'], decided['checkout-api']]);
    expect(view.traffic.buckets.reduce((sum, b) => sum + b.new, 0)).toBe(all.new);

    const revision = instances[0]!.status().revision;
    expect(view.followers.map((f) => [f.appName, f.instanceId, f.protocol, f.sdkName, f.revision, f.upToDate])).toEqual([
      ['billing-api', 'billing-1', 'SWITCHYARD', 'switchyard-node', revision, true],
      ['checkout-api', 'checkout-1', 'SWITCHYARD', 'switchyard-node', revision, true],
      ['checkout-api', 'checkout-2', 'SWITCHYARD', 'switchyard-node', revision, true],
    ]);
    for (const f of view.followers) expect(Date.now() - Date.parse(f.lastSyncedAt!)).toBeLessThan(10_000);
    expect(errors).toEqual([]);
  });

  it('after a rollback, followers show within seconds who holds it and who does not', async () => {
    const key = uniqueKey('traffic.rollback');
    await createSlice(t.admin, { key, percent: 50 });
    const created = await headRevision();
    await served(created); // the polling client below polls once, at start
    // Reports every 6 s; a new revision is acknowledged sooner, within 5 s (jitter). (The interval
    // covers the rare case where the acknowledgement of the first revision leaves before the
    // decisions below; client-sdk/src/transport/metrics-reporter.spec.ts tests the acknowledgement alone.)
    const streaming = await sdk({ appName: 'payments-api', instanceId: 'payments-1', metricsIntervalMs: 6_000 });
    // Polls once a minute, so it will not see the rollback during this test.
    const polling = await sdk({ appName: 'ledger-api', instanceId: 'ledger-1', metricsIntervalMs: 6_000, streaming: false, pollIntervalMs: 60_000 });
    for (const c of [streaming, polling]) {
      await holds(c, created);
      for (const s of subjects(100)) c.decide(key, s);
    }
    // The acknowledgement of their first revision (within 5 s) made them followers.
    const before = await readUntil(
      () => traffic(key),
      (v) => v.followers.length === 2,
      'both followers',
    );
    expect(before.followers.every((f) => f.upToDate)).toBe(true);

    const sent = Date.now();
    await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "e2e incident") { key } }', { key });
    const rolledBack = await traffic(key);
    expect(rolledBack.changedAtRevision).toBeGreaterThan(before.changedAtRevision);
    await holds(streaming, rolledBack.changedAtRevision);

    const after = await readUntil(
      () => traffic(key),
      (v) => v.followers.find((f) => f.appName === 'payments-api')?.upToDate === true,
      'the acknowledgement',
      10_000,
    );
    console.info(`rollback acknowledged in followers ${Date.now() - sent} ms after the mutation was sent`);
    expect(after.followers.find((f) => f.appName === 'payments-api')!.revision).toBeGreaterThanOrEqual(after.changedAtRevision);
    // What an incident responder sees: which services have not received the rollback yet.
    expect(after.followers.filter((f) => !f.upToDate).map((f) => [f.appName, f.instanceId])).toEqual([['ledger-api', 'ledger-1']]);
    expect(after.followers.find((f) => f.appName === 'ledger-api')!.revision).toBeLessThan(after.changedAtRevision);
    expect(errors).toEqual([]);
  });

  it('keeps deciding while the service is unreachable, and the counts arrive once it is back', async () => {
    const key = uniqueKey('traffic.outage');
    await createSlice(t.admin, { key, percent: 30 });
    const port = Number(new URL(t.baseUrl).port);
    const proxy = await new TcpProxy(port).start();
    try {
      const client = await sdk({ url: proxy.url, appName: 'outage-api', instanceId: 'outage-1', metricsIntervalMs: 200 });
      await holds(client, await headRevision());
      const expected = subjects(500).map((s) => client.decide(key, s));

      await proxy.cut();
      errors.length = 0;
      const during = subjects(500).map((s) => client.decide(key, s));
      expect(during).toEqual(expected); // the last snapshot keeps answering
      await waitFor(() => errors.filter((e) => e.operation === 'metrics').length >= 2, 5_000, 'failed reports');
      expect(errors.find((e) => e.operation === 'metrics')).toMatchObject({ code: 'NETWORK_ERROR' });
      const attempts = errors.filter((e) => e.operation === 'metrics').length;

      await proxy.restore();
      const onNew = [...expected, ...during].filter((p) => p === 'NEW').length;
      const view = await readUntil(
        () => traffic(key),
        (v) => v.traffic.last5Minutes.total >= 1_000,
        'the counts after the outage',
      );
      expect(view.traffic.last5Minutes).toMatchObject({ new: onNew, legacy: 1_000 - onNew, total: 1_000 });
      // Once per interval while cut off, not in a loop.
      expect(attempts).toBeLessThan(20);
    } finally {
      await proxy.close();
    }
  });
});
