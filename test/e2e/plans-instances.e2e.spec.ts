import { PlanRunner } from '../../src/plans/plan-runner.js';
import { InstanceEvidenceService } from '../../src/traffic/instance-evidence.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock, midMinute } from '../utils/manual-clock.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';
import { pathOutcome } from '../utils/outcomes.js';
import { postSdkReport, sdkReportBody, sliceServed, watchedAsStored } from '../utils/traffic.js';

/**
 * Each instance's share of a plan's evidence (docs/plans.md, "Reporters"), end to end on the
 * engine DATABASE_URL names: SDK reports of several pods of one app posted to the real endpoint,
 * per-instance figures kept for the watched slice (instance_outcome_buckets), and the plan's look
 * capping each pod and naming the one whose figures disagree with the rest.
 */

const PLAN = `id phase currentStep status { waitingFor lastVerdict gates { gate verdict figures } }`;
const CREATE = `mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput) { createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates) { ${PLAN} } }`;
const START = `mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "ramp") { ${PLAN} } }`;
const READ = `query($sliceKey: String!) { plan(sliceKey: $sliceKey) { ${PLAN} } }`;
const MINUTE = 60_000;

interface PlanView {
  phase: string;
  currentStep: number;
  status: { waitingFor: string[]; lastVerdict: string | null; gates: { gate: string; verdict: string; figures: Record<string, unknown> }[] };
}

describe('plans: per-instance evidence', () => {
  let t: TestApp;
  let clock: ManualClock;
  let sdkToken: string;
  let runner: PlanRunner;

  beforeAll(async () => {
    clock = new ManualClock(midMinute());
    t = await createTestApp({}, { clock });
    runner = t.app.get(PlanRunner);
    runner.stopLooking();
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * One pod's report: `newCalls` NEW calls and 19 times as many LEGACY ones, both failing at `rate`,
   * taking 10 to 59 ms (NEW's `slower` times that).
   */
  async function report(key: string, app: string, instance: string, newCalls: number, rate = 0.005, slower = 1): Promise<void> {
    const ms = (n: number, factor = 1) => Array.from({ length: n }, (_, i) => (10 + (i % 50)) * factor);
    const legacyCalls = newCalls * 19;
    const body = sdkReportBody(app, instance, { [key]: { NEW: newCalls, LEGACY: legacyCalls } }, 10_000, {
      outcomes: { [key]: { NEW: pathOutcome(ms(newCalls, slower), Math.round(newCalls * rate)), LEGACY: pathOutcome(ms(legacyCalls), Math.round(legacyCalls * rate)) } },
    });
    await watchedAsStored(t.app, t.dataSource, key);
    await postSdkReport(t.app, t.baseUrl, sdkToken, body);
  }

  async function startPlan(key: string, minNewCalls: number, ceilingPercent = 5, more: Record<string, unknown> = {}): Promise<void> {
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
    const steps = [
      { percent: 5, minDuration: '30m', minNewCalls },
      { percent: 50, minDuration: '30m', minNewCalls },
      { percent: 100, minDuration: '30m', minNewCalls },
    ];
    await t.admin.ok(CREATE, { sliceKey: key, steps, gates: { failureRate: { ceilingPercent, onFail: 'ROLLBACK' }, ...more } });
    await t.admin.ok(START, { sliceKey: key });
  }

  const plan = async (key: string) => (await t.admin.ok<{ plan: PlanView }>(READ, { sliceKey: key })).plan;

  it("one pod cannot make a step's minimum alone when its siblings report; spread over the pods, the evidence is enough", async () => {
    const key = uniqueKey('plans.pods');
    await startPlan(key, 1_000);
    // pod-1 claims five times the minimum; pod-2 reports a little. One app follows.
    await report(key, 'checkout', 'pod-1', 5_000);
    await report(key, 'checkout', 'pod-2', 100);
    // Counts per pod; no histograms, which only a latency gate reads (this plan has none).
    const rows = await t.dataSource.query<{ instance_id: string; new_calls: string; buckets: number }[]>(
      'SELECT instance_id, new_calls::text, cardinality(new_latency_buckets) + cardinality(legacy_latency_buckets) AS buckets FROM instance_outcome_buckets WHERE slice_key = $1 ORDER BY instance_id',
      [key],
    );
    expect(rows).toEqual([
      { instance_id: 'pod-1', new_calls: '5000', buckets: 0 },
      { instance_id: 'pod-2', new_calls: '100', buckets: 0 },
    ]);
    await clock.advance(31 * MINUTE);
    await report(key, 'checkout', 'pod-2', 50);
    expect(await runner.look(key)).toBe('HELD');
    expect((await plan(key)).status.waitingFor).toContain('650 of 1,000 NEW calls (one reporter or app counts for at most 500)');

    // pod-2 catches up: 500 (pod-1, capped) + 500 (pod-2, capped) is the minimum.
    await report(key, 'checkout', 'pod-2', 400);
    expect(await runner.look(key)).toBe('ADVANCED');
    expect((await getSlice(t.admin, key)).percent).toBe(50);
    const [advanced] = await t.dataSource.query<{ after: { evidence: { reporters: { reporter: string; newCalls: number }[] } } }[]>(
      `SELECT after FROM history WHERE action = 'PLAN_STEP_ADVANCED' AND after->>'sliceKey' = $1`,
      [key],
    );
    expect(advanced!.after.evidence.reporters.map((r) => [r.reporter, r.newCalls])).toEqual([
      ['checkout/pod-1', 5_000],
      ['checkout/pod-2', 550],
    ]);
  });

  it('names the pod whose figures disagree with the rest, without changing the verdict', async () => {
    const key = uniqueKey('plans.odd');
    await startPlan(key, 1_000, 20);
    await report(key, 'checkout', 'pod-1', 4_000);
    await report(key, 'checkout', 'pod-2', 4_000);
    await report(key, 'billing', 'pod-1', 4_000);
    // billing/pod-2 never fails, on either path, where every other pod fails 0.5 % of the time.
    await report(key, 'billing', 'pod-2', 500, 0);
    await clock.advance(MINUTE);
    expect(await runner.look(key)).toBe('HELD');
    const gate = (await plan(key)).status.gates[0]!;
    expect(gate).toMatchObject({ gate: 'FAILURE_RATE', verdict: 'PASS' });
    expect(gate.figures.disagreeing).toBe('billing/pod-2');
  });

  it("a latency gate weighs each pod's own histograms: one slow pod pauses the plan, named, where the pooled figures pass", async () => {
    const key = uniqueKey('plans.slowpod');
    await startPlan(key, 1_000, 20, { latency: { percentile: 50, maxRatio: 1.5, ceilingMs: 2_000, onFail: 'PAUSE' } });
    await report(key, 'checkout', 'pod-1', 4_000);
    await report(key, 'checkout', 'pod-2', 4_000);
    // pod-3's NEW takes four times its LEGACY; with a ninth of the NEW calls it leaves the pooled p50 alone.
    await report(key, 'checkout', 'pod-3', 1_000, 0.005, 4);
    const [kept] = await t.dataSource.query<{ buckets: number }[]>(
      `SELECT cardinality(new_latency_buckets) AS buckets FROM instance_outcome_buckets WHERE slice_key = $1 AND instance_id = 'pod-3'`,
      [key],
    );
    expect(kept!.buckets).toBeGreaterThan(0);
    await clock.advance(MINUTE);
    expect(await runner.look(key)).toBe('PAUSED');
    const [paused] = await t.dataSource.query<{ after: { evidence: { failed: { gate: string; reporters: string[] }; gates: { gate: string; figures: { ratio: number } }[] } } }[]>(
      `SELECT after FROM history WHERE action = 'PLAN_PAUSED' AND after->>'sliceKey' = $1`,
      [key],
    );
    expect(paused!.after.evidence.failed).toMatchObject({ gate: 'LATENCY', reporters: ['checkout/pod-3'] });
    expect(paused!.after.evidence.gates.find((g) => g.gate === 'LATENCY')!.figures.ratio).toBeLessThan(1.5);
  });

  it('keeps nothing per instance for a slice watched without a plan, and stops when its plan ends', async () => {
    const evidence = t.app.get(InstanceEvidenceService);
    const handWatched = uniqueKey('plans.hand');
    await createSlice(t.admin, { key: handWatched, percent: 5 });
    await t.admin.ok('mutation($key: String!) { setObservation(key: $key, watched: true) { key } }', { key: handWatched });
    await sliceServed(t.app, handWatched);
    await report(handWatched, 'checkout', 'pod-1', 100);
    expect(await t.dataSource.query('SELECT 1 FROM instance_outcome_buckets WHERE slice_key = $1', [handWatched])).toEqual([]);

    const key = uniqueKey('plans.ends');
    await startPlan(key, 1_000);
    await report(key, 'checkout', 'pod-1', 100);
    const rows = () => t.dataSource.query<{ new_calls: string }[]>('SELECT new_calls::text FROM instance_outcome_buckets WHERE slice_key = $1', [key]);
    expect(await rows()).toEqual([{ new_calls: '100' }]);
    // Aborted: read again (as every flush tick does, on every instance), the slice is out of scope.
    await t.admin.ok('mutation($sliceKey: String!) { abortPlan(sliceKey: $sliceKey) { phase } }', { sliceKey: key });
    // Twice: the first may be a tick's read that began before the abort.
    await evidence.readScope();
    await evidence.readScope();
    await report(key, 'checkout', 'pod-1', 100);
    expect(await rows()).toEqual([{ new_calls: '100' }]);
  });

  it('keeps nothing per instance for slices that are not watched', async () => {
    const key = uniqueKey('plans.unwatched');
    await createSlice(t.admin, { key, percent: 5 });
    await sliceServed(t.app, key);
    await report(key, 'checkout', 'pod-1', 100);
    expect(t.app.get(InstanceEvidenceService).stats().held).toBe(0);
    expect(await t.dataSource.query('SELECT 1 FROM instance_outcome_buckets WHERE slice_key = $1', [key])).toEqual([]);
  });
});
