import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { wilsonInterval } from '../../src/traffic/outcome-statistics.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { readOutcomes } from '../utils/outcomes.js';
import { readTraffic, readUntil } from '../utils/traffic.js';

/**
 * Issue 13 end to end: the real SDK measures and compares in a host, reports to the real service
 * (the embedded engine, or PostgreSQL with DATABASE_URL), and GraphQL shows what the host did. The
 * slice is watched and shadowed through `setObservation`, as a release manager would, and the
 * SDK learns it from its snapshot: nothing here is injected around the SDK.
 */
describe('SDK outcomes and comparisons, through the service, in GraphQL', () => {
  let t: TestApp;
  let token: string;
  const sdks = new ClientFactory({ appName: 'sdk-outcomes-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 30_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 500 } });

  beforeAll(async () => {
    // Outcomes are written every second by default; decision counts every 100 ms here.
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
    token = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await sdks.closeAll();
    await t?.close();
  });

  /** A slice at 50 %, watched (and shadowed), and the revision at which the service serves it so. */
  async function observedSlice(prefix: string, settings: { shadowPercent?: number } = {}): Promise<string> {
    const key = uniqueKey(prefix);
    await createSlice(t.admin, { key, percent: 50 });
    await t.admin.ok('mutation($key: String!, $shadow: Float) { setObservation(key: $key, watched: true, shadowPercent: $shadow, reason: "measure") { key } }', {
      key,
      shadow: settings.shadowPercent ?? null,
    });
    // The snapshot is rebuilt after the commit: wait until it carries the settings.
    await readUntil(
      async () =>
        (await (await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          revision: number;
          slices: { key: string; watched?: boolean }[];
        },
      (snapshot) => snapshot.slices.some((slice) => slice.key === key && slice.watched === true),
      'the settings in the snapshot',
    ).then((snapshot) => served.set(key, snapshot.revision));
    return key;
  }
  const served = new Map<string, number>();
  /** Until the client decides with the settings of `key`. */
  const settingsIn = (client: { status(): { revision: number | null } }, key: string) =>
    waitFor(() => (client.status().revision ?? 0) >= served.get(key)!, 10_000, 'the settings in the SDK');

  it('a handler failing 2 % on NEW and 0.1 % on LEGACY shows up as such within seconds', async () => {
    const key = await observedSlice('outcomes.route');
    const client = await sdks.create(t.baseUrl, { token, metricsIntervalMs: 60_000, watchedIntervalMs: 300 });
    await settingsIn(client, key);

    const calls = { NEW: 0, LEGACY: 0 };
    const failed = { NEW: 0, LEGACY: 0 };
    for (let i = 0; i < 20_000; i++) {
      const fail = (path: 'NEW' | 'LEGACY', every: number) => () => {
        calls[path]++;
        if (calls[path] % every === 0) {
          failed[path]++;
          throw new Error(`${path} failed`);
        }
        return path;
      };
      try {
        client.route(key, { userId: `user-${i}` }, { legacy: fail('LEGACY', 1_000), next: fail('NEW', 50) });
      } catch (error) {
        // The host's own error, unchanged.
        expect((error as Error).message).toMatch(/^(NEW|LEGACY) failed$/);
      }
    }
    const done = performance.now();
    const view = await readUntil(
      () => readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES' }),
      (v) => v.new.calls + v.legacy.calls === 20_000,
      'the outcomes in GraphQL',
    );
    const visibleAfterMs = performance.now() - done;
    expect(view.new).toMatchObject({ calls: calls.NEW, failures: failed.NEW });
    expect(view.legacy).toMatchObject({ calls: calls.LEGACY, failures: failed.LEGACY });
    expect(view.new.failureRate).toBeCloseTo(0.02, 3);
    expect(view.legacy.failureRate).toBeCloseTo(0.001, 3);
    // NEW is worse, and the interval of the difference says so.
    expect(view.failureRateDifference!.low).toBeGreaterThan(0);
    expect(view.byApp.map((a) => a.appName)).toEqual(['sdk-outcomes-e2e']);
    // Watched every 300 ms, written every second: well within the 5 s the plans need.
    expect(visibleAfterMs).toBeLessThan(5_000);
    expect(sdks.errors).toEqual([]);
  });

  it('latency percentiles read back within 2 % of what the host measured', async () => {
    const key = await observedSlice('outcomes.latency');
    const client = await sdks.create(t.baseUrl, { token, metricsIntervalMs: 60_000, watchedIntervalMs: 300 });
    await settingsIn(client, key);
    // Log-normal-ish durations: LEGACY around 4 ms, NEW around 9 ms with a tail.
    const durations = { LEGACY: [] as number[], NEW: [] as number[] };
    for (let i = 0; i < 3_000; i++) {
      const u = (i + 0.5) / 3_000;
      durations.LEGACY.push(4 * Math.exp(0.6 * (u - 0.5)));
      durations.NEW.push(9 * Math.exp(1.5 * (u - 0.5) ** 3 * 8));
    }
    for (const path of ['LEGACY', 'NEW'] as const) for (const durationMs of durations[path]) client.recordOutcome(key, path, { ok: true, durationMs });
    const view = await readUntil(
      () => readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES' }),
      (v) => v.new.calls === 3_000 && v.legacy.calls === 3_000,
      'the outcomes in GraphQL',
    );
    const exact = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.ceil(q * values.length) - 1]!;
    for (const [side, path] of [
      [view.legacy, 'LEGACY'],
      [view.new, 'NEW'],
    ] as const) {
      for (const [field, q] of [
        ['p50Ms', 0.5],
        ['p95Ms', 0.95],
        ['p99Ms', 0.99],
      ] as const) {
        expect(Math.abs(side[field]! / exact(durations[path], q) - 1)).toBeLessThanOrEqual(0.02);
      }
    }
  });

  it('a comparison with 1 mismatch in 1,000 reads 0.1 % with its interval and the redacted diff', async () => {
    const key = await observedSlice('outcomes.compare', { shadowPercent: 100 });
    const client = await sdks.create(t.baseUrl, {
      token,
      metricsIntervalMs: 60_000,
      watchedIntervalMs: 300,
      // What a mismatch sample may show of a result: never the account number.
      redact: (result) => ({ ...(result as Record<string, unknown>), account: '***' }),
    });
    await settingsIn(client, key);
    for (let i = 0; i < 1_000; i++) {
      const subject = { userId: `user-${i}` };
      const read = (path: 'LEGACY' | 'NEW') => () => ({ account: `KE-${i}`, balance: path === 'NEW' && i === 421 ? 101 : 100 });
      const served = client.decide(key, subject);
      // The served path's result, as route would return it.
      expect(client.compare(key, subject, { legacy: read('LEGACY'), next: read('NEW') })).toEqual(read(served)());
    }
    const view = await readUntil(
      () => readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES' }),
      (v) => v.comparison.compared === 1_000,
      'the comparisons in GraphQL',
    );
    const wilson = wilsonInterval(1, 1_000)!;
    expect(view.comparison).toMatchObject({ compared: 1_000, mismatches: 1, otherFailures: 0, timeouts: 0, mismatchRate: 0.001, thresholdPercent: 0.1, status: 'NOT_ENOUGH_DATA' });
    expect(view.comparison.mismatchRateLow).toBeCloseTo(wilson.low, 9);
    expect(view.comparison.mismatchRateHigh).toBeCloseTo(wilson.high, 9);
    expect(view.comparison.samples).toHaveLength(1);
    const [sample] = view.comparison.samples;
    expect(sample!.diff).toContain('100');
    expect(sample!.diff).toContain('101');
    expect(sample!.diff).not.toContain('KE-421');
    expect(sample!.subject).toMatch(/^[0-9a-f]{16}$/);
    expect(sdks.errors).toEqual([]);
  });

  it('a service that is down loses the reports, and never blocks or throws in the host', async () => {
    // A port that accepts nothing: connections are refused at once.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const client = await sdks.create(`http://127.0.0.1:${port}`, { token, initTimeoutMs: 0, metricsIntervalMs: 100, watchedIntervalMs: 100 });
    const begin = performance.now();
    for (let i = 0; i < 10_000; i++) {
      expect(client.route('down.slice', { userId: String(i) }, { legacy: () => 1, next: () => 2 })).toBe(1);
      client.recordOutcome('down.slice', 'NEW', { ok: false, durationMs: 3 });
      await Promise.resolve();
    }
    expect(performance.now() - begin).toBeLessThan(5_000);
    await waitFor(() => sdks.errors.some((e) => e.operation === 'metrics'), 5_000, 'a failed report');
    const closing = performance.now();
    await client.close();
    expect(performance.now() - closing).toBeLessThan(2_000);
  });

  it('the decisions of those reports are still counted', async () => {
    const key = await observedSlice('outcomes.counts');
    const client = await sdks.create(t.baseUrl, { token, metricsIntervalMs: 60_000, watchedIntervalMs: 300 });
    await settingsIn(client, key);
    for (let i = 0; i < 100; i++) client.route(key, { userId: `user-${i}` }, { legacy: () => 'legacy', next: () => 'new' });
    const view = await readUntil(
      () => readTraffic(t.admin, key),
      (v) => v.traffic.last5Minutes.total >= 100,
      'the counts',
    );
    expect(view.traffic.last5Minutes.total).toBe(100);
  });
});
