import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { type LookOutcome, PlanRunner } from '../../src/plans/plan-runner.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlClient } from '../utils/graphql-client.js';
import { ManualClock, midMinute } from '../utils/manual-clock.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';
import { pathOutcome } from '../utils/outcomes.js';
import { postSdkReport, sdkReportBody, sliceServed, watchedAsStored } from '../utils/traffic.js';

/**
 * Plans end to end (docs/plans.md), on the engine DATABASE_URL names (embedded when absent): real
 * HTTP, GraphQL, SDK reports posted to the real traffic endpoint, the real evaluation, and a
 * ManualClock for time, so a step's 30 minutes pass in a line. The runner's own timer is stopped:
 * each test looks by hand (PlanRunner.look), so what a look sees is what the test reported.
 */

const PLAN_FIELDS = `id sliceKey phase author currentStep stepStartedAt version
  steps { number percent minDuration minNewCalls minComparisons requiresApproval approvedBy }
  gates { failureRateCeilingPercent failureRateOnFail observedShareTolerancePercent }
  status { phase summary waitingFor lastVerdict lookedAt nextStepEarliestAt gates { gate verdict onFail summary figures reporters } }`;

interface PlanView {
  id: string;
  phase: string;
  author: string;
  currentStep: number;
  version: number;
  steps: { number: number; percent: number; minDuration: string; requiresApproval: boolean; approvedBy: string | null }[];
  status: {
    phase: string;
    summary: string;
    waitingFor: string[];
    lastVerdict: string | null;
    nextStepEarliestAt: string | null;
    gates: { gate: string; verdict: string; reporters: string[] }[];
  };
}

const CREATE = `mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput) { createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates) { ${PLAN_FIELDS} } }`;
const START = `mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "ramp") { ${PLAN_FIELDS} } }`;
const READ = `query($sliceKey: String!) { plan(sliceKey: $sliceKey) { ${PLAN_FIELDS} } }`;
const MINUTE = 60_000;

const threeSteps = (minNewCalls = 500, approval = false) => [
  { percent: 5, minDuration: '30m', minNewCalls },
  { percent: 50, minDuration: '30m', minNewCalls, requiresApproval: approval },
  { percent: 100, minDuration: '30m' },
];
const failureGate = { failureRate: { ceilingPercent: 5, onFail: 'ROLLBACK' } };

describe('plans', () => {
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

  const plan = async (client: GraphqlClient, sliceKey: string) => (await client.ok<{ plan: PlanView }>(READ, { sliceKey })).plan;

  /** One app's report of `calls` decisions at `newShare` with outcomes failing at these rates, written at once. */
  async function report(app: string, key: string, o: { newCalls: number; newFailures: number; legacyCalls: number; legacyFailures: number }): Promise<void> {
    const ms = (n: number) => Array.from({ length: n }, (_, i) => 10 + (i % 50));
    const body = sdkReportBody(app, `${app}-1`, { [key]: { NEW: o.newCalls, LEGACY: o.legacyCalls } }, 10_000, {
      outcomes: { [key]: { NEW: pathOutcome(ms(o.newCalls), o.newFailures), LEGACY: pathOutcome(ms(o.legacyCalls), o.legacyFailures) } },
    });
    await watchedAsStored(t.app, t.dataSource, key);
    await postSdkReport(t.app, t.baseUrl, sdkToken, body);
  }

  async function planSlice(key: string, steps = threeSteps(), gates: Record<string, unknown> = failureGate, client = t.admin): Promise<PlanView> {
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
    return (await client.ok<{ createPlan: PlanView }>(CREATE, { sliceKey: key, steps, gates })).createPlan;
  }

  const history = (key: string) =>
    t.dataSource.query<{ action: string; actor: string; slice_key: string | null; reason: string | null; after: Record<string, unknown> }[]>(
      `SELECT action, actor, slice_key, reason, after FROM history WHERE slice_key = $1 OR after->>'sliceKey' = $1 ORDER BY position`,
      [key],
    );

  it('a three-step plan advances on evidence, holds while it waits, and completes; every action a history row with the plan as actor', async () => {
    const key = uniqueKey('plans.ramp');
    const created = await planSlice(key);
    expect(created).toMatchObject({ phase: 'PENDING', currentStep: 1, author: 'bootstrap-admin' });
    const started = (await t.admin.ok<{ startPlan: PlanView }>(START, { sliceKey: key })).startPlan;
    expect(started.phase).toBe('RUNNING');
    expect(await getSlice(t.admin, key)).toMatchObject({ percent: 5 });
    expect((await t.admin.ok<{ slice: { watched: boolean } }>('query($key: String!) { slice(key: $key) { watched } }', { key })).slice.watched).toBe(true);

    // Plenty of evidence, alike on both paths, but the step's 30 minutes have not passed.
    await report('checkout', key, { newCalls: 2_000, newFailures: 10, legacyCalls: 38_000, legacyFailures: 190 });
    expect(await runner.look(key)).toBe('HELD');
    const status = (await plan(t.admin, key)).status;
    expect(status.lastVerdict).toBe('HOLD');
    expect(status.waitingFor.join(' ')).toMatch(/of 30 ?min/);
    expect(status.gates.map((g) => [g.gate, g.verdict])).toEqual([['FAILURE_RATE', 'PASS']]);
    expect(status.nextStepEarliestAt).not.toBeNull();

    await clock.advance(31 * MINUTE);
    // Services report every few seconds: an app follows the slice while it is heard from.
    await report('checkout', key, { newCalls: 100, newFailures: 0, legacyCalls: 1_900, legacyFailures: 10 });
    expect(await runner.look(key)).toBe('ADVANCED');
    expect((await getSlice(t.admin, key)).percent).toBe(50);
    expect((await plan(t.admin, key)).currentStep).toBe(2);
    // What the look read of the traffic (one statement): the app following, and the decisions of both reports.
    const advancedRow = (await history(key)).find((r) => r.action === 'PLAN_STEP_ADVANCED')!;
    const evidence = advancedRow.after.evidence as { followers: string[]; reporters: { decisions: number; newDecisions: number; newCalls: number }[] };
    expect(evidence.followers).toEqual(['checkout']);
    const total = (f: (r: (typeof evidence.reporters)[number]) => number) => evidence.reporters.reduce((n, r) => n + f(r), 0);
    expect([total((r) => r.decisions), total((r) => r.newDecisions), total((r) => r.newCalls)]).toEqual([42_000, 2_100, 2_100]);
    // The next step's evidence starts empty: the look holds on it.
    await clock.advance(MINUTE);
    expect(await runner.look(key)).toBe('HELD');
    expect((await plan(t.admin, key)).status.waitingFor.join(' ')).toMatch(/NEW calls|evidence|follow/);

    await clock.advance(31 * MINUTE);
    await report('checkout', key, { newCalls: 20_000, newFailures: 100, legacyCalls: 20_000, legacyFailures: 100 });
    expect(await runner.look(key)).toBe('ADVANCED');
    expect((await getSlice(t.admin, key)).percent).toBe(100);
    // The last step is a step: held for its 30 minutes, its gates watched (NEW against the LEGACY of
    // the step before, none being left at 100 %), then the plan completes.
    await clock.advance(MINUTE);
    await report('checkout', key, { newCalls: 5_000, newFailures: 25, legacyCalls: 0, legacyFailures: 0 });
    expect(await runner.look(key)).toBe('HELD');
    const last = await plan(t.admin, key);
    expect(last).toMatchObject({ phase: 'RUNNING', currentStep: 3 });
    expect(last.status.waitingFor.join(' ')).toMatch(/of 30 ?min/);
    expect(last.status.nextStepEarliestAt).not.toBeNull();
    await clock.advance(31 * MINUTE);
    await report('checkout', key, { newCalls: 5_000, newFailures: 25, legacyCalls: 0, legacyFailures: 0 });
    expect(await runner.look(key)).toBe('COMPLETED');
    const done = await plan(t.admin, key);
    expect(done).toMatchObject({ phase: 'COMPLETED', currentStep: 3 });
    expect(done.status.summary).toBe('completed at 100 %');
    expect(await runner.look(key)).toBe('NOT_RUNNING');
    // Listed by phase, and on the slice (batched: one query for a page of slices).
    const listed = await t.admin.ok<{ plans: { nodes: { sliceKey: string; phase: string }[] } }>('{ plans(phase: COMPLETED, first: 500) { nodes { sliceKey phase } } }');
    expect(listed.plans.nodes).toContainEqual({ sliceKey: key, phase: 'COMPLETED' });
    const page = await t.admin.ok<{ slices: { nodes: { key: string; plan: { phase: string } | null }[] } }>('{ slices(first: 500) { nodes { key plan { phase } } } }');
    expect(page.slices.nodes.find((n) => n.key === key)?.plan).toEqual({ phase: 'COMPLETED' });

    const rows = await history(key);
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ['SLICE_CREATED', 'bootstrap-admin'],
      ['PLAN_CREATED', 'bootstrap-admin'],
      ['OBSERVATION_SET', 'bootstrap-admin'],
      ['ROLLOUT_SET', 'bootstrap-admin'],
      ['PLAN_STARTED', 'bootstrap-admin'],
      ['ROLLOUT_SET', `plan:${key}`],
      ['PLAN_STEP_ADVANCED', `plan:${key}`],
      ['ROLLOUT_SET', `plan:${key}`],
      ['PLAN_STEP_ADVANCED', `plan:${key}`],
      ['PLAN_COMPLETED', `plan:${key}`],
    ]);
    // Plan rows name no slice (replay reads slice rows as configuration); the evidence is in the row.
    expect(rows.filter((r) => r.action.startsWith('PLAN_')).every((r) => r.slice_key === null)).toBe(true);
    const advanced = rows.find((r) => r.action === 'PLAN_STEP_ADVANCED')!;
    expect(advanced.reason).toMatch(/step 1 -> 2 of 3 \(5 % -> 50 %\)/);
    expect(rows[rows.length - 1]!.reason).toMatch(/step 3 of 3 \(100 %\) held for 3\dm: FAILURE_RATE PASS; plan completed/);
    expect(advanced.after.evidence).toMatchObject({ verdict: 'ADVANCE', reporters: [{ reporter: 'checkout/checkout-1', newCalls: 2_100, newFailures: 10 }] });
  });

  it('holds on too little data however long it waits, and says how much is missing', async () => {
    const key = uniqueKey('plans.little');
    await planSlice(key, threeSteps(5_000));
    await t.admin.ok(START, { sliceKey: key });
    for (let i = 0; i < 3; i++) {
      await clock.advance(6 * 60 * MINUTE);
      await report('checkout', key, { newCalls: 40, newFailures: 0, legacyCalls: 760, legacyFailures: 1 });
      expect(await runner.look(key)).toBe('HELD');
    }
    const view = await plan(t.admin, key);
    expect(view).toMatchObject({ phase: 'RUNNING', currentStep: 1 });
    expect(view.status.waitingFor.join(' ')).toMatch(/120 of 5,000 NEW calls/);
    expect((await getSlice(t.admin, key)).percent).toBe(5);
    // Holding writes no history row.
    expect((await history(key)).map((r) => r.action)).toEqual(['SLICE_CREATED', 'PLAN_CREATED', 'OBSERVATION_SET', 'ROLLOUT_SET', 'PLAN_STARTED']);
  });

  it('rolls the slice back at once when NEW fails more than LEGACY, naming the gate, figures, interval and reporters', async () => {
    const key = uniqueKey('plans.regress');
    await planSlice(key);
    await t.admin.ok(START, { sliceKey: key });
    // On one app of two, NEW fails 10 % against LEGACY's 0.5 %: no need to wait out the step's duration.
    await report('checkout', key, { newCalls: 1_000, newFailures: 100, legacyCalls: 19_000, legacyFailures: 95 });
    await report('billing', key, { newCalls: 1_000, newFailures: 5, legacyCalls: 19_000, legacyFailures: 95 });
    await clock.advance(MINUTE);
    expect(await runner.look(key)).toBe('ROLLED_BACK');
    expect((await getSlice(t.admin, key)).state).toBe('ROLLED_BACK');
    expect((await plan(t.admin, key)).phase).toBe('ROLLED_BACK');
    const rows = await history(key);
    expect(rows.slice(-2).map((r) => [r.action, r.actor])).toEqual([
      ['SLICE_ROLLED_BACK', `plan:${key}`],
      ['PLAN_ROLLED_BACK', `plan:${key}`],
    ]);
    const last = rows[rows.length - 1]!;
    expect(last.reason).toMatch(/gate FAILURE_RATE failed at step 1 of 3 \(5 %\)/);
    expect(last.reason).toMatch(/reporters: checkout/);
    expect(last.after.evidence).toMatchObject({
      verdict: 'FAIL',
      failed: { gate: 'FAILURE_RATE', verdict: 'FAIL', reporters: ['checkout/checkout-1'] },
      interval: { from: expect.any(String) },
    });
    // A finished plan frees the slice for a new one.
    expect((await t.admin.request(CREATE, { sliceKey: key, steps: threeSteps(), gates: failureGate })).errors).toBeUndefined();
  });

  it('a step that requires approval waits for a token other than the author; the author is refused', async () => {
    const key = uniqueKey('plans.approval');
    const author = t.as(await t.tokenFor('release-manager', `rm-author-${key}`));
    const other = t.as(await t.tokenFor('release-manager', `rm-other-${key}`));
    const viewer = t.as(await t.tokenFor('viewer'));
    await planSlice(key, threeSteps(500, true), failureGate, author);
    await author.ok(START, { sliceKey: key });
    await clock.advance(31 * MINUTE);
    await report('checkout', key, { newCalls: 2_000, newFailures: 10, legacyCalls: 38_000, legacyFailures: 190 });
    expect(await runner.look(key)).toBe('HELD');
    expect((await plan(t.admin, key)).status.waitingFor).toEqual([`approval of step 2 by someone other than rm-author-${key}`]);
    expect((await getSlice(t.admin, key)).percent).toBe(5);

    const approve = `mutation($sliceKey: String!, $step: Int!) { approvePlanStep(sliceKey: $sliceKey, step: $step, reason: "reviewed") { ${PLAN_FIELDS} } }`;
    expect((await author.error(approve, { sliceKey: key, step: 2 })).extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 'PLAN_APPROVAL_BY_AUTHOR' });
    expect((await viewer.error(approve, { sliceKey: key, step: 2 })).extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 'FORBIDDEN' });
    expect((await other.error(approve, { sliceKey: key, step: 3 })).extensions).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'step' });
    const approved = (await other.ok<{ approvePlanStep: PlanView }>(approve, { sliceKey: key, step: 2 })).approvePlanStep;
    expect(approved.steps[1]).toMatchObject({ requiresApproval: true, approvedBy: `rm-other-${key}` });
    expect(await runner.look(key)).toBe('ADVANCED');
    expect((await getSlice(t.admin, key)).percent).toBe(50);
    expect((await history(key)).filter((r) => r.action === 'PLAN_STEP_APPROVED').map((r) => [r.actor, r.reason])).toEqual([[`rm-other-${key}`, 'reviewed']]);
  });

  it('a manual exposure change is refused while the plan runs, allowed once it is paused; a manual rollback pauses the plan', async () => {
    const key = uniqueKey('plans.manual');
    await planSlice(key);
    await t.admin.ok(START, { sliceKey: key });
    const setRollout = `mutation($key: String!, $percent: Float!) { setRollout(key: $key, percent: $percent, reason: "by hand") { percent } }`;
    expect((await t.admin.error(setRollout, { key, percent: 40 })).extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'PLAN_RUNNING' });
    expect((await getSlice(t.admin, key)).percent).toBe(5);
    const call = (name: string, reason = '') => `mutation($sliceKey: String!) { ${name}(sliceKey: $sliceKey${reason}) { ${PLAN_FIELDS} } }`;
    expect((await t.admin.ok<{ pausePlan: PlanView }>(call('pausePlan'), { sliceKey: key })).pausePlan.phase).toBe('PAUSED');
    expect((await t.admin.ok<{ setRollout: { percent: number } }>(setRollout, { key, percent: 40 })).setRollout.percent).toBe(40);
    expect((await t.admin.error(call('pausePlan'), { sliceKey: key })).extensions).toMatchObject({ errorCode: 'PLAN_WRONG_PHASE' });
    // Resuming puts the slice back at the step's percentage.
    expect((await t.admin.ok<{ resumePlan: PlanView }>(call('resumePlan', ', reason: "go on"'), { sliceKey: key })).resumePlan.phase).toBe('RUNNING');
    expect((await getSlice(t.admin, key)).percent).toBe(5);

    // Rollback never waits on a plan; the runner then pauses it.
    await t.admin.ok(`mutation($key: String!) { rollback(key: $key, reason: "2 a.m.") { state } }`, { key });
    expect(await runner.look(key)).toBe('PAUSED');
    const paused = await plan(t.admin, key);
    expect(paused.phase).toBe('PAUSED');
    expect((await history(key)).slice(-1).map((r) => [r.action, r.actor])).toEqual([['PLAN_PAUSED', `plan:${key}`]]);
    expect((await t.admin.error(call('resumePlan', ', reason: "go on"'), { sliceKey: key })).extensions).toMatchObject({ errorCode: 'SLICE_NOT_ACTIVE' });
    expect((await t.admin.ok<{ abortPlan: PlanView }>(call('abortPlan'), { sliceKey: key })).abortPlan.phase).toBe('ABORTED');
  });

  it('refuses hostile plans by field, a second open plan, and a plan for an unknown slice', async () => {
    const key = uniqueKey('plans.hostile');
    await createSlice(t.admin, { key });
    const refused = async (steps: unknown, gates: unknown = {}) => (await t.admin.error(CREATE, { sliceKey: key, steps, gates })).extensions;
    expect(await refused([])).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'steps' });
    expect(
      await refused([
        { percent: 50, minDuration: '1h' },
        { percent: 10, minDuration: '1h' },
      ]),
    ).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'steps[1].percent' });
    expect(await refused([{ percent: 5, minDuration: '1.5h' }])).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'steps[0].minDuration' });
    expect(await refused([{ percent: 0, minDuration: '1h' }])).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'steps[0].percent' });
    expect(await refused([{ percent: 5, minDuration: '1h', minNewCalls: -1 }])).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'steps[0].minNewCalls' });
    expect(await refused(Array.from({ length: 21 }, (_, i) => ({ percent: i + 1, minDuration: '1h' })))).toMatchObject({ errorCode: 'INVALID_INPUT' });
    expect(await refused([{ percent: 5, minDuration: '1h' }], { latency: { percentile: 90, maxRatio: 2, ceilingMs: 100 } })).toMatchObject({
      errorCode: 'INVALID_INPUT',
      field: 'gates.latency.percentile',
    });
    await t.admin.ok(CREATE, { sliceKey: key, steps: threeSteps(), gates: {} });
    expect(await refused(threeSteps())).toMatchObject({ code: 'CONFLICT', errorCode: 'PLAN_ALREADY_OPEN' });
    expect((await t.admin.error(CREATE, { sliceKey: uniqueKey('plans.none'), steps: threeSteps() })).extensions).toMatchObject({ errorCode: 'SLICE_NOT_FOUND' });
    expect((await t.admin.error(READ, { sliceKey: uniqueKey('plans.none') })).extensions).toMatchObject({ errorCode: 'PLAN_NOT_FOUND' });
  });
});

/** Two instances of the service on one PostgreSQL database, both looking at one plan at once. */
const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;
onPostgres('plans on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  const clock = new ManualClock(midMinute());

  beforeAll(async () => {
    a = await createTestApp({}, { clock });
    b = await createTestApp({}, { clock, shareDatabaseOf: a });
    a.app.get(PlanRunner).stopLooking();
    b.app.get(PlanRunner).stopLooking();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('exactly one instance acts when both look at the same plan at the same time', async () => {
    const sdk = await a.tokenFor('sdk');
    for (let round = 0; round < 4; round++) {
      const key = uniqueKey('plans.race');
      await createSlice(a.admin, { key });
      await sliceServed(a.app, key);
      await a.admin.ok(CREATE, { sliceKey: key, steps: threeSteps(), gates: failureGate });
      await a.admin.ok(START, { sliceKey: key });
      const ms = Array.from({ length: 2_000 }, (_, i) => 10 + (i % 50));
      const body = sdkReportBody('checkout', 'checkout-1', { [key]: { NEW: 2_000, LEGACY: 38_000 } }, 10_000, {
        outcomes: { [key]: { NEW: pathOutcome(ms, 10), LEGACY: pathOutcome([...ms, ...ms, ...ms, ...ms, ...ms, ...ms, ...ms, ...ms, ...ms, ...ms], 95) } },
      });
      await clock.advance(31 * MINUTE);
      const res = await fetch(`${a.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sdk}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
      await a.app.get(TrafficIngestService).flush();
      const outcomes: LookOutcome[] = await Promise.all([a.app.get(PlanRunner).look(key), b.app.get(PlanRunner).look(key)]);
      expect(outcomes.filter((o) => o === 'ADVANCED')).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 'ADVANCED')[0]).toMatch(/^(LOST_RACE|HELD)$/);
      const rows: { action: string }[] = await a.dataSource.query(`SELECT action FROM history WHERE after->>'sliceKey' = $1 AND action = 'PLAN_STEP_ADVANCED'`, [key]);
      expect(rows).toHaveLength(1);
      expect((await getSlice(a.admin, key)).percent).toBe(50);
      process.stdout.write(`race round ${round}: ${outcomes.join(' / ')}\n`);
    }
  });
});
