import { performance } from 'node:perf_hooks';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';
import { readUntil } from '../utils/traffic.js';

/**
 * A plan rolling back on a failure-rate regression with nothing injected: real SDK clients in two
 * apps route calls through `route`, report to the real service, and the runner's own timer (the
 * system clock, every 5 s) looks at the plan. From the moment NEW starts failing 10 % (against
 * LEGACY's 0.5 %) until every client decides LEGACY is measured and printed.
 */
describe('a plan rolls back on real SDK reports', () => {
  let t: TestApp;
  const sdks = new ClientFactory({ initTimeoutMs: 5_000, heartbeatTimeoutMs: 30_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 500 } });

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
  });
  afterAll(async () => {
    await sdks.closeAll();
    await t?.close();
  });

  it('NEW failing 10 % at 5 % rolls the slice back, and every client decides LEGACY within seconds', async () => {
    const key = uniqueKey('plans.sdk');
    await createSlice(t.admin, { key });
    await t.admin.ok(`mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput) { createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates) { id } }`, {
      sliceKey: key,
      steps: [
        { percent: 5, minDuration: '1d', minNewCalls: 5_000 },
        { percent: 100, minDuration: '1d' },
      ],
      gates: { failureRate: { ceilingPercent: 5, onFail: 'ROLLBACK' } },
    });
    await t.admin.ok(`mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "canary") { phase } }`, { sliceKey: key });
    const token = await t.tokenFor('sdk');
    const clients = await Promise.all(
      ['checkout-api', 'billing-api'].map((appName) => sdks.create(t.baseUrl, { token, appName, metricsIntervalMs: 60_000, watchedIntervalMs: 300 })),
    );
    // The plan watched the slice and put it at 5 %: wait until every client decides with that.
    await Promise.all(clients.map((c) => waitFor(() => [...Array(400).keys()].some((i) => c.decide(key, { userId: `u${i}` }) === 'NEW'), 10_000, 'the plan in the SDK')));

    let n = 0;
    const handler = (path: 'NEW' | 'LEGACY', failEvery: number) => () => {
      if (++n % failEvery === 0) throw new Error(`${path} failed`);
      return path;
    };
    const traffic = (newFailEvery: number) => {
      for (const client of clients) {
        for (let i = 0; i < 1_000; i++) {
          try {
            client.route(key, { userId: `user-${n}-${i}` }, { legacy: handler('LEGACY', 200), next: handler('NEW', newFailEvery) });
          } catch {
            // the host's own error
          }
        }
      }
    };
    const regressionAt = performance.now();
    const everyoneOnLegacy = () => clients.every((c) => [...Array(400).keys()].every((i) => c.decide(key, { userId: `u${i}` }) === 'LEGACY'));
    await readUntil(
      async () => {
        traffic(10);
        await new Promise((r) => setTimeout(r, 100));
        return everyoneOnLegacy();
      },
      Boolean,
      'every client on LEGACY',
      30_000,
    );
    const seconds = (performance.now() - regressionAt) / 1_000;
    process.stdout.write(`regression to every client on LEGACY: ${seconds.toFixed(1)} s\n`);
    expect(seconds).toBeLessThan(20);

    expect((await getSlice(t.admin, key)).state).toBe('ROLLED_BACK');
    const rows = await t.dataSource.query<{ action: string; actor: string; reason: string }[]>(
      `SELECT action, actor, reason FROM history WHERE (slice_key = $1 OR after->>'sliceKey' = $1) AND actor = $2 ORDER BY position`,
      [key, `plan:${key}`],
    );
    expect(rows.map((r) => r.action)).toEqual(['SLICE_ROLLED_BACK', 'PLAN_ROLLED_BACK']);
    expect(rows[1]!.reason).toMatch(/gate FAILURE_RATE failed at step 1 of 2 \(5 %\)/);
  });
});
