import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { wilsonInterval } from '../../src/traffic/outcome-statistics.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';
import { postSdkReport, readUntil, sdkReportBody, sliceServed } from '../utils/traffic.js';

interface CoverageView {
  segmentKey: string;
  measured: boolean;
  sampled: number;
  inSegment: number;
  share: number | null;
  shareLow: number | null;
  shareHigh: number | null;
  decisions: number;
  estimatedDecisions: number | null;
}
const COVERAGE = `query($key: String!) { slice(key: $key) {
  segmentCoverage(minutes: 60) { segmentKey measured sampled inSegment share shareLow shareHigh decisions estimatedDecisions } } }`;

/** A deterministic stream of numbers in [0, 1) (mulberry32): which subjects are Kenyan, the same every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Segment coverage (docs/segment-rollback.md, "Coverage") end to end: the real SDK samples its
 * decisions and reports which segments the subjects were in, the real service stores them, and
 * GraphQL shows "covered about N of the last M decisions" on the engine the run uses (PGlite, or
 * PostgreSQL with DATABASE_URL). Then what the endpoint refuses.
 */
describe('segment coverage', () => {
  let t: TestApp;
  let token: string;
  const sdks = new ClientFactory({ appName: 'coverage-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 30_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 500 } });

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100', SWITCHYARD_OUTCOMES_FLUSH_MS: '100' });
    token = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await sdks.closeAll();
    await t?.close();
  });

  const coverageOf = async (key: string) => (await t.admin.ok<{ slice: { segmentCoverage: CoverageView[] } }>(COVERAGE, { key })).slice.segmentCoverage;

  /** A slice at 25 % with Kenya at 100 % by a rule and staff included. */
  async function configured(): Promise<{ key: string; kenya: string; staff: string }> {
    const kenya = uniqueKey('kenya');
    const staff = uniqueKey('staff');
    await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.dev'] }]);
    const key = uniqueKey('payments.provider');
    await createSlice(t.admin, { key, percent: 25, targeting: { include: [staff], exclude: [], rules: [{ segments: [kenya], percent: 100 }] } });
    await sliceServed(t.app, key);
    return { key, kenya, staff };
  }

  it('the real SDK samples one decision in 64; GraphQL shows the share in the segment, its interval holding the true one, and the estimate', async () => {
    const { key, kenya, staff } = await configured();
    // random fixed at 0.5: exactly every 64th decision is sampled (the subjects are random instead).
    const client = await sdks.create(t.baseUrl, { token, metricsIntervalMs: 200 }, { random: () => 0.5 });
    await waitFor(() => client.stickinessAttribute(key) !== undefined, 10_000, 'the slice in the SDK');
    const random = seeded(15);
    const DECISIONS = 64 * 200;
    let kenyan = 0;
    for (let i = 0; i < DECISIONS; i++) {
      const isKenyan = random() < 0.3;
      if (isKenyan) kenyan++;
      const path = client.decide(key, { userId: `user-${i}`, country: isKenyan ? 'KE' : 'GH' });
      if (isKenyan) expect(path).toBe('NEW');
    }
    const figures = await readUntil(
      () => coverageOf(key),
      (list) => list.every((c) => c.sampled === 200 && c.decisions === DECISIONS),
      'the sampled decisions in GraphQL',
    );
    expect(figures.map((c) => c.segmentKey)).toEqual([kenya, staff].sort());
    const ke = figures.find((c) => c.segmentKey === kenya)!;
    const st = figures.find((c) => c.segmentKey === staff)!;
    expect(ke.measured).toBe(true);
    expect(ke.share).toBeCloseTo(ke.inSegment / 200, 12);
    const interval = wilsonInterval(ke.inSegment, 200)!;
    expect([ke.shareLow, ke.shareHigh]).toEqual([interval.low, interval.high]);
    // The seeded subjects are fixed: the true share of Kenyans lies in the interval, every run.
    expect(kenyan / DECISIONS).toBeGreaterThanOrEqual(ke.shareLow!);
    expect(kenyan / DECISIONS).toBeLessThanOrEqual(ke.shareHigh!);
    expect(ke.estimatedDecisions).toBe(Math.round((ke.inSegment / 200) * DECISIONS));
    // Nobody was staff: measured, and none of them.
    expect(st).toMatchObject({ measured: true, sampled: 200, inSegment: 0, share: 0, shareLow: 0, estimatedDecisions: 0 });
    expect(st.shareHigh!).toBeGreaterThan(0);
  });

  it('says "not measured" where no sample exists: a slice without coverage reports (older SDKs, Unleash SDKs)', async () => {
    const { key, kenya, staff } = await configured();
    // An older SDK's report: decisions, no segmentCoverage.
    await postSdkReport(t.app, t.baseUrl, token, sdkReportBody('old-sdk', 'old-1', { [key]: { NEW: 30, LEGACY: 70 } }));
    const figures = await coverageOf(key);
    expect(figures).toEqual(
      [kenya, staff].sort().map((segmentKey) => ({
        segmentKey,
        measured: false,
        sampled: 0,
        inSegment: 0,
        share: null,
        shareLow: null,
        shareHigh: null,
        decisions: 100,
        estimatedDecisions: null,
      })),
    );
  });

  it('stores a report’s figures exactly, summed per segment, and ignores segments the slice does not name', async () => {
    const { key, kenya, staff } = await configured();
    const report = (sampled: number, segments: Record<string, number>) =>
      sdkReportBody('coverage-app', 'pod-1', { [key]: { NEW: 500, LEGACY: 500 } }, 10_000, { segmentCoverage: { [key]: { sampled, segments } } });
    await postSdkReport(t.app, t.baseUrl, token, report(10, { [kenya]: 4, [staff]: 0, 'not-named': 10 }));
    await postSdkReport(t.app, t.baseUrl, token, report(6, { [kenya]: 2, [staff]: 1 }));
    const figures = await coverageOf(key);
    expect(figures.map(({ segmentKey, sampled, inSegment, decisions, estimatedDecisions }) => ({ segmentKey, sampled, inSegment, decisions, estimatedDecisions }))).toEqual(
      [
        { segmentKey: kenya, sampled: 16, inSegment: 6, decisions: 2_000, estimatedDecisions: 750 },
        { segmentKey: staff, sampled: 16, inSegment: 1, decisions: 2_000, estimatedDecisions: 125 },
      ].sort((a, b) => (a.segmentKey < b.segmentKey ? -1 : 1)),
    );
  });

  it('refuses hostile coverage whole, with a coded 400 naming the field, and stores nothing of the report', async () => {
    const { key, kenya } = await configured();
    const post = (segmentCoverage: unknown, spanMs = 10_000) =>
      fetch(`${t.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(sdkReportBody('hostile-app', 'pod-h', { [key]: { NEW: 1, LEGACY: 1 } }, spanMs, { segmentCoverage })),
      });
    const field = (k: string) => `segmentCoverage[${JSON.stringify(k)}]`;
    const cases: [unknown, string][] = [
      [[1, 2], 'segmentCoverage'],
      [{ 'Not A Slice': { sampled: 1, segments: {} } }, field('Not A Slice')],
      [{ [key]: { sampled: -1, segments: {} } }, field(key)],
      [{ [key]: { sampled: 1.5, segments: {} } }, field(key)],
      [{ [key]: { sampled: 3, segments: [] } }, field(key)],
      [{ [key]: { sampled: 3, segments: { [kenya]: 4 } } }, `${field(key)}.segments[${JSON.stringify(kenya)}]`],
      [{ [key]: { sampled: 3, segments: { 'Bad Segment': 1 } } }, `${field(key)}.segments["Bad Segment"]`],
      [{ [key]: { sampled: 100, segments: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, 1])) } }, `${field(key)}.segments`],
      [{ [key]: { sampled: Number.MAX_SAFE_INTEGER + 1, segments: {} } }, field(key)],
    ];
    for (const [coverage, expected] of cases) {
      const res = await post(coverage);
      expect(res.status).toBe(400);
      const error = ((await res.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions;
      expect({ coverage, error }).toMatchObject({ coverage, error: { code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field: expected } });
    }
    // More sampled decisions than one instance can make in the time the report covers (10 s at the default ceiling).
    const implausible = await post({ [key]: { sampled: 10_000_001, segments: { [kenya]: 1 } } });
    expect(implausible.status).toBe(400);
    expect(((await implausible.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions).toMatchObject({
      errorCode: 'TRAFFIC_COUNTS_IMPLAUSIBLE',
    });
    await postSdkReport(t.app, t.baseUrl, token, sdkReportBody('hostile-app', 'pod-ok', {}));
    const figures = await coverageOf(key);
    expect(figures.every((c) => !c.measured && c.decisions === 0)).toBe(true);
  });
});
