import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config/env.js';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { newcombeDifference, wilsonInterval } from '../../src/traffic/outcome-statistics.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock } from '../utils/manual-clock.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { exactQuantile, type OutcomesView, pathOutcome, readOutcomes } from '../utils/outcomes.js';
import { parseExposition } from '../utils/prometheus.js';
import { readUntil, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * Outcomes and shadow comparisons (docs/outcomes.md), end to end: reports posted over real HTTP
 * to the real service (the embedded engine, or PostgreSQL with DATABASE_URL), read back through
 * GraphQL. The SDK's own measuring and reporting is tested on its side.
 */

/** Durations spread evenly over [lowMs, highMs). */
const spread = (n: number, lowMs: number, highMs: number) => Array.from({ length: n }, (_, i) => lowMs + ((highMs - lowMs) * i) / n);
const sample = (diff: string) => ({ at: '2026-12-02T10:01:02.345Z', served: 'LEGACY', subject: '9f86d081884c7d65', diff });
const withinTwoPercent = (measured: number | null, exact: number) => expect(Math.abs(measured! / exact - 1)).toBeLessThanOrEqual(0.02);

async function errorOf(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions;
}

describe('outcomes: reports in, GraphQL out', () => {
  let t: TestApp;
  let sdkToken: string;

  // Decision counts wait the default 5 s; outcomes are written every second (the default).
  beforeAll(async () => {
    t = await createTestApp();
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown) =>
    fetch(`${t.baseUrl}/sdk/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` }, body: JSON.stringify(body) });
  const report = (appName: string, key: string, more: Record<string, unknown>) => post(sdkReportBody(appName, `${appName}-1`, { [key]: { NEW: 0, LEGACY: 0 } }, 10_000, more));
  async function rows(key: string): Promise<number> {
    const r: { n: string }[] = await t.dataSource.query(
      `SELECT ((SELECT count(*) FROM outcome_buckets WHERE slice_key = $1) + (SELECT count(*) FROM comparison_buckets WHERE slice_key = $1) + (SELECT count(*) FROM mismatch_samples WHERE slice_key = $1))::text AS n`,
      [key],
    );
    return Number(r[0]!.n);
  }

  it('NEW failing 2 % and LEGACY 0.1 % read back so, per app, with latency percentiles within 2 %, within 5 s of the report', async () => {
    const key = uniqueKey('outcomes.paths');
    await createSlice(t.admin, { key, percent: 50 });
    await sliceServed(t.app, key);
    // Two apps; NEW takes 20-120 ms and fails 2 %, LEGACY 5-55 ms and fails 0.1 %.
    const newMs = { checkout: spread(6_000, 20, 120), billing: spread(4_000, 20, 120) };
    const legacyMs = { checkout: spread(6_000, 5, 55), billing: spread(4_000, 5, 55) };
    const sent = Date.now();
    for (const [app, newFailures, legacyFailures] of [
      ['checkout', 120, 6],
      ['billing', 80, 4],
    ] as const) {
      const res = await report(`${app}-api`, key, { outcomes: { [key]: { NEW: pathOutcome(newMs[app], newFailures), LEGACY: pathOutcome(legacyMs[app], legacyFailures) } } });
      expect(res.status).toBe(202);
    }
    const view = await readUntil(
      () => readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES' }),
      (v) => v.new.calls === 10_000 && v.legacy.calls === 10_000,
      'the outcomes',
      10_000,
    );
    const delay = Date.now() - sent;
    expect(delay).toBeLessThan(5_000);
    expect(view.new).toMatchObject({ calls: 10_000, failures: 200, failureRate: 0.02 });
    expect(view.legacy).toMatchObject({ calls: 10_000, failures: 10, failureRate: 0.001 });
    const allNew = [...newMs.checkout, ...newMs.billing];
    const allLegacy = [...legacyMs.checkout, ...legacyMs.billing];
    for (const [q, field] of [
      [0.5, 'p50Ms'],
      [0.95, 'p95Ms'],
      [0.99, 'p99Ms'],
    ] as const) {
      withinTwoPercent(view.new[field], exactQuantile(allNew, q));
      withinTwoPercent(view.legacy[field], exactQuantile(allLegacy, q));
    }
    expect(view.failureRateDifference).toEqual(newcombeDifference({ events: 200, trials: 10_000 }, { events: 10, trials: 10_000 }));
    expect(view.failureRateDifference!.low).toBeGreaterThan(0);
    expect(view.latencyDifferenceMs!.p50).toBeCloseTo(view.new.p50Ms! - view.legacy.p50Ms!, 9);
    expect(view.byApp.map((a) => [a.appName, a.new.calls, a.new.failures, a.legacy.calls, a.legacy.failures])).toEqual([
      ['billing-api', 4_000, 80, 4_000, 4],
      ['checkout-api', 6_000, 120, 6_000, 6],
    ]);
    const billing = await readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES', appName: 'billing-api' });
    expect(billing.new).toMatchObject({ calls: 4_000, failures: 80 });
    expect(billing.byApp.map((a) => a.appName)).toEqual(['billing-api']);
    // The series: one point a minute, the report in one of them.
    expect(view.series).toHaveLength(5);
    expect(view.series.reduce((n, p) => n + p.newCalls, 0)).toBe(10_000);
    expect(view.comparison).toMatchObject({ compared: 0, status: 'NOT_ENOUGH_DATA', mismatchRate: null, thresholdPercent: 0.1, samples: [] });
    // With no comparisons yet: the fewest that, all matching, would show WITHIN.
    expect(view.comparison.comparisonsNeeded).toBe(3_838);
    process.stdout.write(`outcomes visible in GraphQL ${delay} ms after the report\n`);
  });

  it('merges histograms exactly across writes of the same slice, app, path and minute', async () => {
    const key = uniqueKey('outcomes.merge');
    await createSlice(t.admin, { key, percent: 50 });
    await sliceServed(t.app, key);
    const parts = [spread(1_000, 1, 10), spread(1_000, 50, 500), spread(10, 2, 9)]; // the third in the buckets of the first
    for (const part of parts) {
      expect((await report('ledger-api', key, { outcomes: { [key]: { NEW: pathOutcome(part, 1) } } })).status).toBe(202);
      await t.app.get(TrafficIngestService).flush();
    }
    const stored: { calls: string; sum: string; n: string }[] = await t.dataSource.query(
      `SELECT sum(calls)::text AS calls, (SELECT sum(c) FROM outcome_buckets o2, unnest(o2.latency_counts) c WHERE o2.slice_key = $1)::text AS sum, count(*)::text AS n
       FROM outcome_buckets WHERE slice_key = $1`,
      [key],
    );
    // Usually one row (one minute); two when the writes straddle a minute.
    expect(Number(stored[0]!.calls)).toBe(2_010);
    expect(stored[0]!.sum).toBe(stored[0]!.calls);
    const view = await readOutcomes(t.admin, key, { window: 'LAST_5_MINUTES' });
    const all = parts.flat();
    expect(view.new).toMatchObject({ calls: 2_010, failures: 3 });
    withinTwoPercent(view.new.p50Ms, exactQuantile(all, 0.5));
    withinTwoPercent(view.new.p99Ms, exactQuantile(all, 0.99));
    withinTwoPercent(view.new.p95Ms, exactQuantile(all, 0.95));
  });

  it('1 mismatch in 1,000 comparisons reads 0.1 % with its Wilson interval and the sample; per app', async () => {
    const key = uniqueKey('outcomes.shadow');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    const diff = '$.balance: 100 ≠ 101 — ünïcödé, 😀';
    expect((await report('ledger-api', key, { comparisons: { [key]: { compared: 600, mismatches: 1, otherFailures: 2, timeouts: 1, samples: [sample(diff)] } } })).status).toBe(
      202,
    );
    expect((await report('wallet-api', key, { comparisons: { [key]: { compared: 400, mismatches: 0, otherFailures: 0, timeouts: 3 } } })).status).toBe(202);
    await t.app.get(TrafficIngestService).flush();
    const view = await readOutcomes(t.admin, key);
    const wilson = wilsonInterval(1, 1_000)!;
    expect(view.comparison).toMatchObject({
      compared: 1_000,
      mismatches: 1,
      otherFailures: 2,
      timeouts: 4,
      mismatchRate: 0.001,
      mismatchRateLow: wilson.low,
      mismatchRateHigh: wilson.high,
      thresholdPercent: 0.1,
      // Exactly at the threshold: no number of comparisons decides.
      status: 'NOT_ENOUGH_DATA',
      comparisonsNeeded: null,
    });
    expect(view.comparison.mismatchRateLow).toBeCloseTo(0.000177, 6);
    expect(view.comparison.mismatchRateHigh).toBeCloseTo(0.005643, 6);
    expect(view.comparison.samples).toEqual([{ ...sample(diff), appName: 'ledger-api', receivedAt: expect.any(String) }]);
    // 0 in 400 is not enough to say: 3,838 without a mismatch would be.
    expect(view.byApp.map((a) => [a.appName, a.comparison.compared, a.comparison.mismatches, a.comparison.status, a.comparison.comparisonsNeeded])).toEqual([
      ['ledger-api', 600, 1, 'NOT_ENOUGH_DATA', expect.any(Number)],
      ['wallet-api', 400, 0, 'NOT_ENOUGH_DATA', 3_838 - 400],
    ]);
    expect(view.series.reduce((n, p) => n + p.mismatches, 0)).toBe(1);
    // 50 mismatches more: ABOVE.
    expect((await report('ledger-api', key, { comparisons: { [key]: { compared: 1_000, mismatches: 50, otherFailures: 0, timeouts: 0 } } })).status).toBe(202);
    await t.app.get(TrafficIngestService).flush();
    expect((await readOutcomes(t.admin, key)).comparison.status).toBe('ABOVE');
  });

  it("judges comparisons against the slice's own threshold (setObservation)", async () => {
    const key = uniqueKey('outcomes.threshold');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    expect((await report('ledger-api', key, { comparisons: { [key]: { compared: 10_000, mismatches: 30, otherFailures: 0, timeouts: 0 } } })).status).toBe(202);
    await t.app.get(TrafficIngestService).flush();
    // 0.3 % against the default 0.1 %: above.
    expect((await readOutcomes(t.admin, key)).comparison).toMatchObject({ thresholdPercent: 0.1, status: 'ABOVE' });
    await t.admin.ok('mutation($key: String!) { setObservation(key: $key, mismatchThresholdPercent: 1) { key } }', { key });
    expect((await readOutcomes(t.admin, key)).comparison).toMatchObject({ thresholdPercent: 1, status: 'WITHIN' });
  });

  it('keeps the newest 50 samples of a slice', async () => {
    const key = uniqueKey('outcomes.samples');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    for (let i = 0; i < 12; i++) {
      const samples = Array.from({ length: 5 }, (_, j) => sample(`diff ${i * 5 + j}`));
      expect((await report('ledger-api', key, { comparisons: { [key]: { compared: 5, mismatches: 5, otherFailures: 0, timeouts: 0, samples } } })).status).toBe(202);
      if (i % 4 === 3) await t.app.get(TrafficIngestService).flush();
    }
    await t.app.get(TrafficIngestService).flush();
    const view = await readOutcomes(t.admin, key);
    expect(view.comparison.samples).toHaveLength(50);
    expect(view.comparison.samples[0]!.diff).toBe('diff 59');
    expect(view.comparison.samples[49]!.diff).toBe('diff 10');
  });

  it('refuses a report with any bad outcome or comparison, or claiming more calls than plausible, and writes nothing of it', async () => {
    const key = uniqueKey('outcomes.refused');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    const good = { NEW: pathOutcome([5, 6, 7], 1) };
    const bad = [
      [{ outcomes: { [key]: { ...good, LEGACY: { ...pathOutcome([5], 0), failures: 2 } } } }, 'INVALID_INPUT', `outcomes["${key}"].LEGACY.failures`],
      [{ outcomes: { [key]: good }, comparisons: { [key]: { compared: 1, mismatches: 2, otherFailures: 0, timeouts: 0 } } }, 'INVALID_INPUT', `comparisons["${key}"].mismatches`],
      [
        { outcomes: { [key]: good }, comparisons: { [key]: { compared: 1, mismatches: 1, otherFailures: 0, timeouts: 0, samples: [{ ...sample('x'), subject: 'user-42' }] } } },
        'INVALID_INPUT',
        `comparisons["${key}"].samples[0].subject`,
      ],
      // 10 s at the default ceiling (1,000,000 a second) is 10,000,000.
      [
        { outcomes: { [key]: { NEW: { calls: 20_000_000, failures: 0, latency: { scheme: 'log2pct-v1', buckets: [[400, 20_000_000]] } } } } },
        'TRAFFIC_COUNTS_IMPLAUSIBLE',
        `outcomes["${key}"]`,
      ],
    ] as const;
    for (const [more, errorCode, field] of bad) {
      const res = await report('hostile-api', key, more);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ errorCode, field });
    }
    await t.app.get(TrafficIngestService).flush();
    expect(await rows(key)).toBe(0);
    const view = await readOutcomes(t.admin, key);
    expect([view.new.calls, view.comparison.compared, view.byApp]).toEqual([0, 0, []]);
    expect(view.new).toEqual({ calls: 0, failures: 0, failureRate: null, p50Ms: null, p95Ms: null, p99Ms: null });
    expect(view.failureRateDifference).toBeNull();
    expect(view.latencyDifferenceMs).toBeNull();
  });
});

/**
 * Generated reports, honest and hostile, over real HTTP: each is either refused with a code and
 * nothing of it written, or kept exactly (read back through GraphQL).
 */
describe('outcomes: generated reports (property)', () => {
  let t: TestApp;
  let sdkToken: string;
  const RUNS = 25;
  const keys = Array.from({ length: RUNS }, (_, i) => `outcomes.generated.s${i}`);
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '600000', SWITCHYARD_OUTCOMES_FLUSH_MS: '60000' });
    sdkToken = await t.tokenFor('sdk');
    for (const key of keys) await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, keys[RUNS - 1]!);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** What this test compares, without the series (1,440 points a day) the shared query asks for. */
  const light = async (key: string) =>
    (
      await t.admin.ok<{ slice: { outcomes: Pick<OutcomesView, 'new' | 'legacy' | 'comparison'> } }>(
        `query($key: String!) { slice(key: $key) { outcomes(window: LAST_DAY) {
          new { calls failures } legacy { calls failures }
          comparison { compared mismatches timeouts samples(limit: 50) { at served subject diff } } } } }`,
        { key },
      )
    ).slice.outcomes;

  it('refuses with a code and writes nothing, or keeps exactly what was sent', async () => {
    // Honest reports, each spoilt in one way or not at all.
    const spoil = <T extends string>(...ways: T[]) => fc.constantFrom<'none' | T>('none', 'none', 'none', 'none', 'none', ...ways);
    const path = fc.tuple(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }), fc.nat(), spoil('lie', 'scheme', 'failures', 'implausible')).map(([buckets, f, how]) => {
      const counts = new Map<number, number>();
      for (const b of buckets) counts.set(b * 9, (counts.get(b * 9) ?? 0) + 1);
      const pairs = [...counts].sort((a, b) => a[0] - b[0]);
      const calls = buckets.length;
      const honest = { calls, failures: f % (calls + 1), latency: { scheme: 'log2pct-v1', buckets: pairs } };
      if (how === 'lie') return { ...honest, calls: calls + 1 };
      if (how === 'scheme') return { ...honest, latency: { ...honest.latency, scheme: 'hdr' } };
      if (how === 'failures') return { ...honest, failures: calls + 1 };
      if (how === 'implausible') return { calls: 20_000_000, failures: 0, latency: { scheme: 'log2pct-v1', buckets: [[400, 20_000_000]] } };
      return honest;
    });
    const sampleArb = fc.tuple(fc.constantFrom('NEW', 'LEGACY'), fc.string({ unit: 'binary', maxLength: 40 }), spoil('at', 'subject')).map(([served, diff, how]) => ({
      at: how === 'at' ? 'soon' : '2026-12-02T10:01:02.345Z',
      served,
      subject: how === 'subject' ? 'user-42' : '9f86d081884c7d65',
      diff,
    }));
    const comparison = fc
      .tuple(fc.nat(50), fc.nat(), fc.nat(5), fc.nat(5), fc.array(sampleArb, { maxLength: 3 }), spoil('mismatches', 'fraction'))
      .map(([compared, m, otherFailures, timeouts, samples, how]) => ({
        compared: how === 'fraction' ? compared + 0.5 : compared,
        mismatches: how === 'mismatches' ? compared + 1 : m % (compared + 1),
        otherFailures,
        timeouts,
        samples,
      }));
    let run = 0;
    const outcomes = { refused: 0, kept: 0 };
    await fc.assert(
      fc.asyncProperty(fc.record({ NEW: path, LEGACY: path }, { requiredKeys: [] }), fc.option(comparison, { nil: undefined }), async (paths, shadow) => {
        const key = keys[run++ % RUNS]!;
        const body = sdkReportBody('generated-api', 'pod-1', {}, 10_000, { outcomes: { [key]: paths }, ...(shadow === undefined ? {} : { comparisons: { [key]: shadow } }) });
        const before = await light(key);
        const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
          body: JSON.stringify(body),
        });
        await t.app.get(TrafficIngestService).flush();
        const after = await light(key);
        outcomes[res.status === 400 ? 'refused' : 'kept']++;
        if (res.status === 400) {
          expect(['INVALID_INPUT', 'TRAFFIC_COUNTS_IMPLAUSIBLE']).toContain((await errorOf(res)).errorCode);
          expect(after).toEqual(before);
          return;
        }
        expect(res.status).toBe(202);
        for (const [p, field] of [
          ['NEW', 'new'],
          ['LEGACY', 'legacy'],
        ] as const) {
          expect(after[field].calls - before[field].calls).toBe(paths[p]?.calls ?? 0);
          expect(after[field].failures - before[field].failures).toBe(paths[p]?.failures ?? 0);
        }
        expect(after.comparison.compared - before.comparison.compared).toBe(shadow?.compared ?? 0);
        expect(after.comparison.mismatches - before.comparison.mismatches).toBe(shadow?.mismatches ?? 0);
        expect(after.comparison.timeouts - before.comparison.timeouts).toBe(shadow?.timeouts ?? 0);
        // The newest samples come first; those of this report, exactly as sent (newest of one report: last sent first is not promised).
        const sent = shadow?.samples ?? [];
        const got = after.comparison.samples.slice(0, sent.length).map(({ at, served, subject, diff }) => ({ at, served, subject, diff }));
        expect(new Set(got.map((x) => JSON.stringify(x)))).toEqual(new Set(sent.map((x) => JSON.stringify(x))));
      }),
      { numRuns: 60 },
    );
    // Both kinds were tried.
    expect(outcomes.refused).toBeGreaterThan(5);
    expect(outcomes.kept).toBeGreaterThan(5);
  }, 240_000);
});

/** Windows, on the service's clock (moved by hand); SINCE_LAST_CHANGE starts at the slice's last history row. */
describe('outcomes: windows', () => {
  const realNow = Date.now();
  // Half an hour behind the real clock; history rows are stamped with this clock too (ChangeService's CLOCK).
  const clock = new ManualClock(new Date(realNow - 30 * 60_000));
  let t: TestApp;
  let sdkToken: string;
  beforeAll(async () => {
    t = await createTestApp({}, { clock });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function report(key: string, calls: number): Promise<void> {
    const stop = clock.now();
    const body = {
      appName: 'payments-api',
      instanceId: 'pod-1',
      bucket: { start: new Date(stop.getTime() - 10_000).toISOString(), stop: stop.toISOString(), slices: {} },
      outcomes: { [key]: { NEW: pathOutcome(Array<number>(calls).fill(10), 0) } },
    };
    const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    await t.app.get(TrafficIngestService).flush();
  }

  it('LAST_5_MINUTES, LAST_HOUR, LAST_DAY and SINCE_LAST_CHANGE count what fell in them', async () => {
    const key = uniqueKey('outcomes.windows');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    await report(key, 1); // 27 minutes before the change
    await clock.advance(25 * 60_000);
    await report(key, 10); // 2 minutes before it (a minute of its own)
    await clock.advance(2 * 60_000);
    await t.admin.ok('mutation($key: String!) { setRollout(key: $key, percent: 20, reason: "next step") { key } }', { key });
    await clock.advance(5 * 60_000 + 90_000);
    await report(key, 100); // after it
    const calls = async (window: string) => (await readOutcomes(t.admin, key, { window })).new.calls;
    expect(await calls('LAST_5_MINUTES')).toBe(100);
    expect(await calls('LAST_HOUR')).toBe(111);
    expect(await calls('LAST_DAY')).toBe(111);
    expect(await calls('SINCE_LAST_CHANGE')).toBe(100);
    const since = await readOutcomes(t.admin, key, { window: 'SINCE_LAST_CHANGE', step: 2 });
    // The change is stamped by the same injected clock (ChangeService): 6.5 minutes ago, in 2-minute steps.
    expect(Date.parse(since.to) - Date.parse(since.from)).toBeGreaterThanOrEqual(6.5 * 60_000);
    expect(Date.parse(since.to) - Date.parse(since.from)).toBeLessThanOrEqual(6.5 * 60_000 + 2 * 60_000);
    expect(since.series.reduce((n, p) => n + p.newCalls, 0)).toBe(100);
    const hour = await readOutcomes(t.admin, key, { window: 'LAST_HOUR', step: 2 });
    expect(hour.series).toHaveLength(30);
    expect(Date.parse(hour.series[1]!.start) - Date.parse(hour.series[0]!.start)).toBe(120_000);
    const day = await readOutcomes(t.admin, key, { window: 'LAST_DAY', step: 60 });
    expect(day.series).toHaveLength(24);
    expect(day.series.reduce((n, p) => n + p.newCalls, 0)).toBe(111);
  });
});

/** Prometheus (docs/metrics.md): the slices listed in SWITCHYARD_METRICS_OUTCOME_SLICES, counted as reports come in. */
describe('outcomes: Prometheus export', () => {
  let t: TestApp;
  let sdkToken: string;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_METRICS_OUTCOME_SLICES: 'outcomes.exported, outcomes.quiet' });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exports calls, failures and a latency histogram per path of the listed slices only', async () => {
    for (const key of ['outcomes.exported', 'outcomes.quiet', 'outcomes.other']) {
      await createSlice(t.admin, { key, percent: 10 });
      await sliceServed(t.app, key);
    }
    const outcomes = {
      'outcomes.exported': { NEW: pathOutcome([...Array<number>(90).fill(7), ...Array<number>(10).fill(300)], 3), LEGACY: pathOutcome([2, 2], 0) },
      'outcomes.other': { NEW: pathOutcome([7], 1) },
    };
    for (let i = 0; i < 2; i++) {
      const body = sdkReportBody('payments-api', 'pod-1', {}, 10_000, { outcomes });
      const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
    }
    const m = parseExposition(await (await fetch(`${t.baseUrl}/metrics`)).text());
    const NEW = { slice: 'outcomes.exported', path: 'NEW' };
    expect(m.value('switchyard_outcome_calls_total', NEW)).toBe(200);
    expect(m.value('switchyard_outcome_failures_total', NEW)).toBe(6);
    expect(m.value('switchyard_outcome_calls_total', { slice: 'outcomes.exported', path: 'LEGACY' })).toBe(4);
    expect(m.value('switchyard_outcome_duration_seconds_count', NEW)).toBe(200);
    expect(m.value('switchyard_outcome_duration_seconds_bucket', { ...NEW, le: '0.005' })).toBe(0);
    expect(m.value('switchyard_outcome_duration_seconds_bucket', { ...NEW, le: '0.01' })).toBe(180);
    expect(m.value('switchyard_outcome_duration_seconds_bucket', { ...NEW, le: '0.25' })).toBe(180);
    expect(m.value('switchyard_outcome_duration_seconds_bucket', { ...NEW, le: '0.5' })).toBe(200);
    expect(m.value('switchyard_outcome_duration_seconds_bucket', { ...NEW, le: '+Inf' })).toBe(200);
    expect(Math.abs(m.value('switchyard_outcome_duration_seconds_sum', NEW)! / (180 * 0.007 + 20 * 0.3) - 1)).toBeLessThan(0.02);
    // Listed but quiet: present at 0 from the start. Not listed: absent.
    expect(m.value('switchyard_outcome_calls_total', { slice: 'outcomes.quiet', path: 'NEW' })).toBe(0);
    expect(m.labelValues('switchyard_outcome_calls_total', 'slice')).toEqual(new Set(['outcomes.exported', 'outcomes.quiet']));
    expect(m.labelValues('switchyard_outcome_duration_seconds_bucket', 'slice')).toEqual(new Set(['outcomes.exported', 'outcomes.quiet']));
  });

  it('refuses a configuration listing more than 50 slices, or something that is no slice key', () => {
    const keys = Array.from({ length: 51 }, (_, i) => `s${i}`).join(',');
    expect(() => loadConfig({ SWITCHYARD_METRICS_OUTCOME_SLICES: keys })).toThrow(ConfigError);
    expect(() => loadConfig({ SWITCHYARD_METRICS_OUTCOME_SLICES: 'Payments' })).toThrow(ConfigError);
    expect(loadConfig({ SWITCHYARD_METRICS_OUTCOME_SLICES: ' a, b ,a,' }).metricsOutcomeSlices).toEqual(['a', 'b']);
    expect(loadConfig({}).metricsOutcomeSlices).toEqual([]);
  });
});
