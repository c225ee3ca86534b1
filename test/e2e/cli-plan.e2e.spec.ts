import { PlanRunner } from '../../src/plans/plan-runner.js';
import { cliAgainst } from '../utils/cli.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';

/**
 * `switchyard plan ...` (docs/plans.md, docs/cli.md) against the real service, run in-process as
 * main.ts runs it: exit codes and JSON asserted, the human rendering where it is the point.
 */
describe('switchyard plan', () => {
  let t: TestApp;
  let author: string;
  let approver: string;

  beforeAll(async () => {
    t = await createTestApp();
    t.app.get(PlanRunner).stopLooking();
    author = await t.tokenFor('release-manager', 'ana-release-manager');
    approver = await t.tokenFor('release-manager', 'ben-release-manager');
  });
  afterAll(async () => {
    await t?.close();
  });

  const cli = cliAgainst(() => t.baseUrl);

  it('creates, approves, starts, shows, pauses, resumes and aborts a plan', async () => {
    const key = uniqueKey('cli.plan');
    await createSlice(t.admin, { key });
    const created = await cli(
      ['plan', 'create', key, '--step', '5@1d,calls=5000', '--step', '50@6h,calls=20000,approval', '--step', '100@30m', '--failure-ceiling', '2', '--mismatch', '--json'],
      author,
    );
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({
      phase: 'PENDING',
      author: 'ana-release-manager',
      steps: [{ percent: 5, minNewCalls: 5000 }, { percent: 50, requiresApproval: true }, { percent: 100 }],
    });

    const self = await cli(['plan', 'approve', key, '2', '--json'], author);
    expect(self.code).not.toBe(0);
    expect(JSON.parse(self.stdout)).toMatchObject({ error: { errorCode: 'PLAN_APPROVAL_BY_AUTHOR' } });
    expect((await cli(['plan', 'approve', key, '2'], approver)).code).toBe(0);

    expect((await cli(['plan', 'start', key, '--reason', 'ramp the provider'], author)).code).toBe(0);
    expect((await getSlice(t.admin, key)).percent).toBe(5);
    const status = await cli(['plan', 'status', key]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${key}: running: step 1 of 3 (5 %)`);
    expect(status.stdout).toContain("the runner's first look");
    expect(status.stdout).toContain('approved by ben-release-manager');

    const byHand = await cli(['set', key, '40', '--reason', 'by hand']);
    expect(byHand.code).not.toBe(0);
    expect(byHand.stderr).toContain(`switchyard plan pause ${key}`);

    expect((await cli(['plan', 'pause', key, '--json'])).json()).toMatchObject({ phase: 'PAUSED' });
    expect((await cli(['plan', 'resume', key, '--reason', 'again', '--json'])).json()).toMatchObject({ phase: 'RUNNING' });
    expect((await cli(['plan', 'abort', key, '--json'])).json()).toMatchObject({ phase: 'ABORTED' });
  });

  it('refuses a malformed step before sending, and names a refused field by its --step', async () => {
    const key = uniqueKey('cli.plan.bad');
    await createSlice(t.admin, { key });
    expect((await cli(['plan', 'create', key, '--step', '5%1d'])).code).toBe(2);
    const refused = await cli(['plan', 'create', key, '--step', '5@1d', '--step', '50@1.5h']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--step number 2/);
  });
});
