import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PlanRunner } from '../../src/plans/plan-runner.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock, midMinute } from '../utils/manual-clock.js';
import { pathOutcome } from '../utils/outcomes.js';
import { postSdkReport, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * Plans and freeze windows in the console, in Chromium against the real service on the embedded
 * engine (docs/console.md). Time is the service's ManualClock, as in test/e2e/plans.e2e.spec.ts:
 * the runner's timer is stopped and each look is made by hand (PlanRunner.look) after the test
 * moves the clock, so a step's 30 minutes pass in a line and nothing sleeps for them. The page
 * finds what the runner did by itself (it polls the plan's status).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'console');
const MINUTE = 60_000;
const PLANNED = 'payments.provider.mpesa';
const FROZEN = 'payroll.salary-run';
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

type Role = 'admin' | 'release-manager' | 'viewer';
type TestPage = Page & { errors: string[] };

describe('plans and freeze windows in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let clock: ManualClock;
  let runner: PlanRunner;
  let sdkToken: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    clock = new ManualClock(midMinute());
    app = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' }, { clock });
    runner = app.app.get(PlanRunner);
    runner.stopLooking();
    sdkToken = await app.tokenFor('sdk');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await app.admin.ok('mutation { createSlice(key: "payments.provider.mpesa", reason: "seed", owner: "payments-team") { key } }');
    await app.admin.ok('mutation { createSlice(key: "payroll.salary-run", tags: ["payroll"], reason: "seed", owner: "payroll-team") { key } }');
    await sliceServed(app.app, PLANNED);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signedIn(role: Role, name: string, hash: string): Promise<TestPage> {
    const page = (await (await browser.newContext()).newPage()) as TestPage;
    page.errors = [];
    page.on('dialog', (dialog) => {
      throw new Error(`a JavaScript dialog opened: ${dialog.message()}`);
    });
    page.on('pageerror', (error) => page.errors.push(String(error)));
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor(role, name));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.goto(`${app.baseUrl}/console/#${hash}`);
    return page;
  }

  /** One app's report of NEW and LEGACY calls, 0.5 % failing on both paths, at the service's current minute. */
  async function report(newCalls: number, legacyCalls: number): Promise<void> {
    const ms = (n: number) => Array.from({ length: n }, (_, i) => 10 + (i % 50));
    const body = sdkReportBody('checkout', 'checkout-1', { [PLANNED]: { NEW: newCalls, LEGACY: legacyCalls } }, 10_000, {
      outcomes: { [PLANNED]: { NEW: pathOutcome(ms(newCalls), Math.round(newCalls / 200)), LEGACY: pathOutcome(ms(legacyCalls), Math.round(legacyCalls / 200)) } },
    });
    await postSdkReport(app.app, app.baseUrl, sdkToken, body);
  }

  /** Confirms the open reason dialog with this reason. */
  async function confirm(page: Page, button: string, reason: string): Promise<void> {
    const dialog = page.locator('dialog.reason-dialog');
    await dialog.getByLabel('Reason (recorded in history)').fill(reason);
    await dialog.getByRole('button', { name: button, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  it('a release manager creates a plan (a field error at its step), starts it; another approves a step; the page follows the runner; a viewer sees no button', async () => {
    const ana = await signedIn('release-manager', 'ana-release-manager', `/slices/${PLANNED}`);
    const panel = ana.locator('section.plan');
    await panel.getByText('No plan: the rollout moves only by hand.').waitFor();
    await panel.getByRole('button', { name: 'New plan…' }).click();
    const form = panel.locator('form.plan-form');
    // Step 2 below step 1: the service's refusal, next to the field it names.
    await form.getByLabel('Step 2 percent').fill('3');
    await form.getByLabel('Step 2 at least').fill('30m');
    await form.getByLabel('Step 1 at least').fill('30m');
    await form.getByLabel('Step 1 NEW calls').fill('500');
    await form.getByLabel('Step 2 NEW calls').fill('500');
    await form.getByLabel('Step 2 needs approval').check();
    await form.getByRole('button', { name: 'Create plan' }).click();
    await form.locator('.field-error[data-field="steps[1].percent"]').filter({ hasText: 'above the step before' }).waitFor();
    expect(await app.admin.ok<{ slice: { plan: null } }>(`{ slice(key: "${PLANNED}") { plan { id } } }`)).toEqual({ slice: { plan: null } });

    await form.getByLabel('Step 2 percent').fill('50');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await panel.locator('[data-phase="PENDING"]').waitFor();
    expect(await panel.locator('li.plan-step').allInnerTexts()).toEqual([
      expect.stringMatching(/^5 %\s+for 30m, 500 NEW calls$/),
      expect.stringMatching(/^50 %\s+for 30m, 500 NEW calls\s+approval needed$/),
      expect.stringMatching(/^100 %\s+for 30m$/),
    ]);
    // The author is not offered an approval of her own plan (the service refuses it anyway).
    expect(await panel.getByRole('button', { name: /^Approve step/ }).count()).toBe(0);

    await panel.getByRole('button', { name: 'Start…' }).click();
    await confirm(ana, 'Start', HOSTILE);
    await panel.locator('[data-phase="RUNNING"]').waitFor();
    await ana.locator('dl.facts').getByText('5 % on NEW').waitFor();
    await panel.locator('li.plan-step.step-current[data-step="1"]').waitFor();
    // What the service would refuse while the plan runs (PLAN_RUNNING) is not offered; rollback still is.
    await ana.locator('p.plan-owns-exposure').waitFor();
    expect(await ana.locator('form.rollout-control').count()).toBe(0);
    expect(await ana.getByRole('button', { name: 'Roll back…', exact: true }).count()).toBe(1);

    // Evidence arrives and 31 minutes pass: the step is ready, but the next one waits for an approval.
    await report(2_000, 38_000);
    await clock.advance(31 * MINUTE);
    await report(100, 1_900);
    expect(await runner.look(PLANNED)).toBe('HELD');
    await panel
      .locator('.waiting-for li')
      .filter({ hasText: /approval of step 2 by someone other than ana-release-manager/ })
      .waitFor({ timeout: 15_000 });
    await panel.locator('tr[data-gate="FAILURE_RATE"][data-verdict="PASS"]').waitFor();

    const ben = await signedIn('release-manager', 'ben-release-manager', `/slices/${PLANNED}`);
    const benPanel = ben.locator('section.plan');
    await benPanel.getByRole('button', { name: 'Approve step 2…' }).click();
    await confirm(ben, 'Approve', 'checked the dashboards');
    await benPanel.locator('li.plan-step[data-step="2"] .approval-given').filter({ hasText: 'approved by ben-release-manager' }).waitFor();

    await report(100, 1_900);
    expect(await runner.look(PLANNED)).toBe('ADVANCED');
    // Ana's page follows without a reload: the step, the rollout, and the plan's automatic row.
    await panel.locator('li.plan-step.step-current[data-step="2"]').waitFor({ timeout: 15_000 });
    await ana.locator('dl.facts').getByText('50 % on NEW').waitFor({ timeout: 15_000 });
    const advanced = panel.locator(`ol.plan-history li[data-action="PLAN_STEP_ADVANCED"]`);
    await advanced
      .locator('.actor')
      .filter({ hasText: `plan:${PLANNED}` })
      .waitFor();
    expect(await advanced.locator('.reason').innerText()).toMatch(/plan: step 1 -> 2 of 3 \(5 % -> 50 %\)/);
    await panel.locator('.next-step').filter({ hasText: 'at the earliest' }).waitFor();

    // The hostile start reason is text wherever it shows.
    const started = panel.locator('ol.plan-history li[data-action="PLAN_STARTED"] .reason');
    expect(await started.textContent()).toBe(`“${HOSTILE}”`);
    expect(await ana.locator('img[src="x"]').count()).toBe(0);
    expect(await ana.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await ana.screenshot({ path: join(SCREENSHOTS, 'plan.png'), fullPage: true });

    await panel.getByRole('button', { name: 'Pause…' }).click();
    await confirm(ana, 'Pause', 'holiday traffic');
    await panel.locator('[data-phase="PAUSED"]').waitFor();
    expect(await panel.getByRole('button', { name: 'Resume…' }).count()).toBe(1);
    // Paused, the rollout is the release manager's again.
    await ana.locator('form.rollout-control').waitFor();

    // The plans list, from the navigation.
    await ana.getByRole('link', { name: 'Plans' }).click();
    const row = ana.locator(`table.plans tr[data-plan="${PLANNED}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-phase')).toBe('PAUSED');
    expect(await row.locator('td').nth(2).innerText()).toMatch(/^2 of 3 \(50 %\)/);
    await ana.screenshot({ path: join(SCREENSHOTS, 'plans.png'), fullPage: true });

    const viewer = await signedIn('viewer', 'vera-viewer', `/slices/${PLANNED}`);
    const viewerPanel = viewer.locator('section.plan');
    await viewerPanel.locator('[data-phase="PAUSED"]').waitFor();
    await viewerPanel.locator('li.plan-step').first().waitFor();
    expect(await viewerPanel.getByRole('button').count()).toBe(0);
    expect([...ana.errors, ...ben.errors, ...viewer.errors]).toEqual([]);
  });

  it('freeze windows: a release manager creates one (a field error first), sees it on; a raise is refused with the window and until when; an admin overrides with a reason and deletes it', async () => {
    const rm = await signedIn('release-manager', 'rita-release-manager', '/freeze-windows');
    await rm.getByRole('heading', { name: 'Freeze windows' }).waitFor();
    await rm.getByRole('button', { name: 'New window…' }).click();
    const form = rm.locator('form.freeze-form');
    // Today's day of the month in Nairobi, by the service's clock: the window is on now.
    const today = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Africa/Nairobi', day: 'numeric' }).format(clock.now()));
    await form.getByLabel('Key').fill('salary-run');
    await form.getByLabel('Description').fill(HOSTILE);
    await form.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await form.getByLabel('Only slices tagged').fill('payroll');
    await form.getByLabel('Days of the month').fill(String(today));
    await form.getByLabel('Lasts').fill('1d');
    await form.getByRole('button', { name: 'Create window' }).click();
    await form.locator('.field-error[data-field="timeZone"]').waitFor();

    await form.getByLabel('Time zone').fill('Africa/Nairobi');
    await form.getByRole('button', { name: 'Create window' }).click();
    const row = rm.locator('tr[data-window="salary-run"]');
    await row.waitFor();
    expect(await row.getAttribute('data-active')).toBe('true');
    expect(await row.locator('.freeze-now').innerText()).toMatch(/^ON until \d+ \w{3} \d{4}, 00:00 Africa\/Nairobi$/);
    expect(await row.locator('.window-description').textContent()).toBe(HOSTILE);
    // On now: a release manager may neither change nor delete it.
    expect(await row.getByRole('button').count()).toBe(0);
    await rm.screenshot({ path: join(SCREENSHOTS, 'freeze-windows.png'), fullPage: true });

    // A raise of a slice it covers is refused, and the page says by which window and until when.
    await rm.goto(`${app.baseUrl}/console/#/slices/${FROZEN}`);
    await rm
      .locator('dd.slice-freeze')
      .filter({ hasText: /^frozen by salary-run until .* Africa\/Nairobi$/ })
      .waitFor();
    const control = rm.locator('form.rollout-control');
    await control.getByLabel('New share on NEW (%)').fill('10');
    await control.locator('input[name="rollout-reason"]').fill('pay run is late');
    await control.getByRole('button', { name: 'Apply' }).click();
    await control
      .getByRole('alert')
      .filter({ hasText: /freeze window salary-run is on until .* Africa\/Nairobi/ })
      .waitFor();
    expect(await control.locator('input[name="freeze-override"]').count()).toBe(0);

    const admin = await signedIn('admin', 'ada-admin', `/slices/${FROZEN}`);
    const adminControl = admin.locator('form.rollout-control');
    await adminControl.getByLabel('New share on NEW (%)').fill('10');
    await adminControl.locator('input[name="rollout-reason"]').fill('pay run is late');
    await adminControl.getByRole('button', { name: 'Apply' }).click();
    await adminControl
      .getByRole('alert')
      .filter({ hasText: /freeze window salary-run/ })
      .waitFor();
    await adminControl.getByLabel(/Freeze override/).fill('CFO approved the hotfix');
    await adminControl.getByRole('button', { name: 'Apply with override' }).click();
    await adminControl.getByRole('status').filter({ hasText: 'Moved to 10 % (freeze overridden).' }).waitFor();
    const rows = await app.admin.ok<{ history: { nodes: { action: string; after: { override?: string } }[] } }>(
      `{ history(sliceKey: "${FROZEN}", first: 5) { nodes { action after } } }`,
    );
    expect(rows.history.nodes.slice(0, 2).map((n) => n.action)).toEqual(['ROLLOUT_SET', 'FREEZE_OVERRIDDEN']);
    expect(rows.history.nodes[1]!.after.override).toBe('CFO approved the hotfix');

    await admin.getByRole('link', { name: 'Freeze windows' }).click();
    await admin.getByRole('button', { name: 'Delete salary-run…' }).click();
    await confirm(admin, 'Delete', 'pay run done');
    await admin.locator('tr[data-window="salary-run"]').waitFor({ state: 'detached' });

    const viewer = await signedIn('viewer', 'vic-viewer', '/freeze-windows');
    await viewer.getByText('No freeze window.').waitFor();
    expect(await viewer.getByRole('button', { name: 'New window…' }).count()).toBe(0);
    expect(await admin.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await rm.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect([...rm.errors, ...admin.errors, ...viewer.errors]).toEqual([]);
  });
});
