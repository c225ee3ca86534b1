import { PlanRunner } from '../../src/plans/plan-runner.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock } from '../utils/manual-clock.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';
import { pathOutcome } from '../utils/outcomes.js';
import { postSdkReport, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * A freeze window (built apart, src/freeze) holding a plan's step across its end, in a zone that
 * is not UTC and across a month (and year) boundary: days 31 to 1 of the month in Africa/Nairobi
 * (UTC+3) end at 2 Jan 00:00 local, 1 Jan 21:00 UTC. Through GraphQL only.
 */
describe('a plan under a freeze window', () => {
  let t: TestApp;
  // 30 Dec 15:00 in Nairobi.
  const clock = new ManualClock(new Date('2026-12-30T12:00:00.000Z'));

  beforeAll(async () => {
    t = await createTestApp({}, { clock });
    t.app.get(PlanRunner).stopLooking();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('holds the step while the window is on, says until when in local time, and advances once it ends', async () => {
    const key = uniqueKey('plans.freeze');
    const tag = `freeze-${Date.now().toString(36)}`;
    await createSlice(t.admin, { key, tags: [tag] });
    await sliceServed(t.app, key);
    await t.admin.ok(
      `mutation($key: String!, $tag: String) { createFreezeWindow(key: $key, timeZone: "Africa/Nairobi", tag: $tag,
         recurrence: { daysOfMonth: [31], at: "00:00", duration: "2d" }, reason: "year-end salary run") { key } }`,
      { key: `salary-${tag}`, tag },
    );
    await t.admin.ok(`mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput) { createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates) { id } }`, {
      sliceKey: key,
      steps: [
        { percent: 5, minDuration: '30m', minNewCalls: 500 },
        { percent: 50, minDuration: '30m' },
        { percent: 100, minDuration: '30m' },
      ],
      gates: { failureRate: { ceilingPercent: 5, onFail: 'ROLLBACK' } },
    });
    await t.admin.ok(`mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "before the freeze") { phase } }`, { sliceKey: key });
    const sdk = await t.tokenFor('sdk');
    const report = async () => {
      const ms = Array.from({ length: 1_000 }, (_, i) => 10 + (i % 50));
      const body = sdkReportBody('checkout', 'checkout-1', { [key]: { NEW: 1_000, LEGACY: 19_000 } }, 10_000, {
        outcomes: { [key]: { NEW: pathOutcome(ms, 5), LEGACY: pathOutcome(ms, 5) } },
      });
      await postSdkReport(t.app, t.baseUrl, sdk, body);
    };
    const runner = t.app.get(PlanRunner);
    const status = async () =>
      (
        await t.admin.ok<{ plan: { currentStep: number; status: { lastVerdict: string; waitingFor: string[] } } }>(
          'query($k: String!) { plan(sliceKey: $k) { currentStep status { lastVerdict waitingFor } } }',
          { k: key },
        )
      ).plan;

    // 31 Dec 00:30 in Nairobi: the window is on; the step's evidence and time are there.
    await clock.advance(Date.parse('2026-12-30T21:30:00.000Z') - clock.now().getTime());
    await report();
    expect(await runner.look(key)).toBe('BLOCKED');
    expect(await status()).toEqual({ currentStep: 1, status: { lastVerdict: 'BLOCKED', waitingFor: ['freeze window until 2 Jan 00:00 Africa/Nairobi'] } });
    expect((await getSlice(t.admin, key)).percent).toBe(5);

    // A minute before the end, across the month and year boundary: still held.
    await clock.advance(Date.parse('2027-01-01T20:59:00.000Z') - clock.now().getTime());
    await report();
    expect(await runner.look(key)).toBe('BLOCKED');
    expect((await getSlice(t.admin, key)).percent).toBe(5);

    // 2 Jan 00:01 in Nairobi: over.
    await clock.advance(2 * 60_000);
    await report();
    expect(await runner.look(key)).toBe('ADVANCED');
    expect((await getSlice(t.admin, key)).percent).toBe(50);
  });
});
