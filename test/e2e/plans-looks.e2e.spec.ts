import { jest } from '@jest/globals';
import { FLUSH_LOOK_MIN_GAP_MS, PlanRunner } from '../../src/plans/plan-runner.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock, midMinute } from '../utils/manual-clock.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { sliceServed } from '../utils/traffic.js';

/**
 * How often a flush brings a look at a RUNNING plan (plan-runner.ts, FLUSH_LOOK_MIN_GAP_MS): at
 * most once per gap per plan, by the injected clock, so that many plans under many reporting SDKs
 * do not each cost a look a second. The runner is left looking (not stopLooking), its timer on a
 * ManualClock that the test moves less than a tick.
 */
describe('plans: looks after flushes', () => {
  let t: TestApp;
  let clock: ManualClock;
  let runner: PlanRunner;

  beforeAll(async () => {
    clock = new ManualClock(midMinute());
    t = await createTestApp({}, { clock });
    runner = t.app.get(PlanRunner);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** What the ingest's hook calls after a flush wrote outcomes of these slices; resolves once the looks it brought are done. */
  async function written(keys: string[]): Promise<void> {
    const inside = runner as unknown as { evidenceWritten(keys: ReadonlySet<string>): Promise<void>; soon: Map<string, unknown> };
    await inside.evidenceWritten(new Set(keys));
    while (inside.soon.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  async function running(key: string): Promise<void> {
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
    const steps = [{ percent: 5, minDuration: '1h', minNewCalls: 1_000 }];
    await t.admin.ok('mutation($key: String!, $steps: [PlanStepInput!]!) { createPlan(sliceKey: $key, steps: $steps) { phase } }', { key, steps });
    await t.admin.ok('mutation($key: String!) { startPlan(sliceKey: $key, reason: "ramp") { phase } }', { key });
  }

  it('looks at a plan after a flush at most once per gap, each plan on its own; never at a slice without a RUNNING plan', async () => {
    const a = uniqueKey('looks.a');
    const b = uniqueKey('looks.b');
    const idle = uniqueKey('looks.idle');
    await running(a);
    await running(b);
    await createSlice(t.admin, { key: idle });
    // The list of RUNNING plans is read at most once a second: let it see both.
    await clock.advance(1_000);
    const look = jest.spyOn(runner, 'look');
    const looked = () => look.mock.calls.map(([key]) => key);

    await written([a, idle]);
    expect(looked()).toEqual([a]);
    await written([a, b]);
    expect(looked()).toEqual([a, b]);
    await clock.advance(FLUSH_LOOK_MIN_GAP_MS - 1);
    await written([a, b]);
    expect(looked()).toEqual([a, b]);
    await clock.advance(1);
    await written([a]);
    expect(looked()).toEqual([a, b, a]);
    look.mockRestore();
  });
});
