import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { readTraffic, readUntil } from '../utils/traffic.js';

/**
 * The SDK's outcome and comparison reports (docs/outcomes.md) against the real service: it accepts
 * reports carrying `outcomes` and `comparisons` (202), watched-slice reports included, and keeps
 * counting their decisions as before. What the service makes of the new members is tested with
 * the service's side of issue 13; this only proves the wire format is accepted end to end.
 *
 * The service cannot set `watched` / `shadowPercent` everywhere yet, so the SDK here polls through
 * a fetch that adds them to the snapshots it receives (as the service will serve them): the real
 * SDK then compares on every call and reports the slice every 300 ms.
 */
describe('SDK outcome reports against the service', () => {
  let t: TestApp;
  let token: string;
  const sdks = new ClientFactory({ appName: 'sdk-outcomes-e2e', initTimeoutMs: 5_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 500 } });

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
    token = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await sdks.closeAll();
    await t?.close();
  });

  it('answers 202 to reports with outcomes, comparisons and mismatch samples, and still counts their decisions', async () => {
    const key = uniqueKey('outcomes.sdk');
    await createSlice(t.admin, { key, percent: 100 });
    const metricsAnswers: { status: number; body: { outcomes?: unknown; comparisons?: unknown } }[] = [];
    const observing: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const response = await fetch(input, init);
      if (url.endsWith('/sdk/v1/metrics')) metricsAnswers.push({ status: response.status, body: JSON.parse(typeof init?.body === 'string' ? init.body : 'null') });
      if (!url.includes('/sdk/v1/snapshot') || response.status !== 200) return response;
      const snapshot = (await response.json()) as { slices: { key: string }[] };
      for (const slice of snapshot.slices) if (slice.key === key) Object.assign(slice, { watched: true, shadowBasisPoints: 10_000 });
      return new Response(JSON.stringify(snapshot), { status: 200, headers: response.headers });
    };
    const client = await sdks.create(t.baseUrl, { token, streaming: false, fetch: observing, metricsIntervalMs: 60_000, watchedIntervalMs: 300 });
    await waitFor(() => client.stickinessAttribute(key) !== undefined, 10_000, 'the slice in the snapshot');

    const subjects = Array.from({ length: 50 }, (_, i) => ({ userId: `user-${i}` }));
    for (const subject of subjects) {
      client.route(key, subject, { legacy: () => 'legacy', next: () => 'new' });
      await client.compare(key, subject, { legacy: () => Promise.resolve({ n: subject.userId === 'user-7' ? 1 : 0 }), next: () => Promise.resolve({ n: 0 }) });
    }
    client.recordOutcome(key, 'LEGACY', { ok: false, durationMs: 12 });

    type Body = {
      outcomes?: Record<string, { NEW?: { calls: number }; LEGACY?: { calls: number; failures: number } }>;
      comparisons?: Record<string, { compared: number; mismatches: number; samples: { served: string; diff: string }[] }>;
    };
    const bodies = () => metricsAnswers.map((a) => a.body as Body);
    const sum = (f: (b: Body) => number | undefined) => bodies().reduce((n, b) => n + (f(b) ?? 0), 0);
    await waitFor(() => sum((b) => b.outcomes?.[key]?.NEW?.calls) === 100 && sum((b) => b.comparisons?.[key]?.compared) === 50, 10_000, 'the watched reports');
    expect(metricsAnswers.length).toBeGreaterThan(0);
    expect(metricsAnswers.every((a) => a.status === 202)).toBe(true);
    expect(sum((b) => b.outcomes?.[key]?.LEGACY?.failures)).toBe(1);
    expect(sum((b) => b.comparisons?.[key]?.mismatches)).toBe(1);
    expect(bodies().flatMap((b) => b.comparisons?.[key]?.samples ?? [])).toEqual([expect.objectContaining({ served: 'NEW', diff: '$.n: 1 ≠ 0' })]);
    // The decisions of that report were counted as always.
    const view = await readUntil(
      () => readTraffic(t.admin, key),
      (v) => v.traffic.last5Minutes.total >= 100,
      'the counts',
    );
    expect(view.traffic.last5Minutes).toMatchObject({ new: 100, legacy: 0 });
    expect(sdks.errors).toEqual([]);
  });
});
