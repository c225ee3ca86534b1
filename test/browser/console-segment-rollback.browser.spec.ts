import { type Browser, chromium, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { postSdkReport, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * Segment rollback in the console (docs/segment-rollback.md), in Chromium against the real
 * service: an incident responder rolls one segment back from the slice page (choose, reason,
 * confirm once), seeing how many of the last hour's decisions the segment covered; a release
 * manager sees it listed and resumes it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SLICE = 'payments.provider.mpesa';

describe('segment rollback in the console', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await createTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    await app.admin.ok('mutation { createSegment(key: "kenya", constraints: [{ attribute: "country", operator: IN, values: ["KE"] }]) { key } }');
    await app.admin.ok('mutation { createSegment(key: "ghana", constraints: [{ attribute: "country", operator: IN, values: ["GH"] }]) { key } }');
    await app.admin.ok(`mutation { createSlice(key: "${SLICE}", percent: 100, targeting: { rules: [{ segments: ["kenya"], percent: 100 }] }, reason: "seed") { key } }`);
    // An SDK's report: 1,000 decisions, 16 of them sampled, 4 of those in Kenya.
    await sliceServed(app.app, SLICE);
    const report = sdkReportBody('mpesa-api', 'pod-1', { [SLICE]: { NEW: 1_000, LEGACY: 0 } }, 10_000, {
      segmentCoverage: { [SLICE]: { sampled: 16, segments: { kenya: 4 } } },
    });
    await postSdkReport(app.app, app.baseUrl, await app.tokenFor('sdk'), report);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signedIn(role: 'release-manager' | 'incident-responder'): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`a JavaScript dialog opened: ${dialog.message()}`);
    });
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.goto(`${app.baseUrl}/#/slices/${SLICE}`);
    await page.getByRole('heading', { name: SLICE }).waitFor();
    return page;
  }

  const reasonFor = async (country: string) =>
    (await app.admin.ok<{ evaluate: { reason: string } }>(`{ evaluate(sliceKey: "${SLICE}", context: { userId: "u1", country: "${country}" }) { reason } }`)).evaluate.reason;

  it('a responder rolls back one segment (chosen, with a reason, confirmed once); a release manager resumes it', async () => {
    const responder = await signedIn('incident-responder');
    await responder.getByRole('button', { name: 'Roll back a segment…' }).click();
    const confirm = responder.getByRole('button', { name: 'Roll back the segment now' });
    await responder.getByLabel('Reason (recorded in history)').fill('M-Pesa callbacks failing in KE');
    expect(await confirm.isDisabled()).toBe(true); // no segment chosen yet
    const coverage = responder.locator('.segment-coverage');
    await responder.getByRole('combobox', { name: 'Segment' }).selectOption('ghana');
    await coverage.filter({ hasText: 'Coverage not measured: this slice does not name the segment' }).waitFor();
    await responder.getByRole('combobox', { name: 'Segment' }).selectOption('kenya');
    await coverage.filter({ hasText: 'Covered about' }).waitFor();
    expect(await coverage.textContent()).toMatch(/^Covered about 250 of the last 1,000 decisions \(25\.0 %, 95 % interval \d+\.\d–\d+\.\d %, last hour, sampled: 4 of 16\)\.$/);
    await confirm.click();
    await responder.locator('.rolled-back-segment[data-segment="kenya"]').waitFor();
    // A responder may not resume: no resume button for them.
    expect(await responder.getByRole('button', { name: 'Resume kenya…' }).count()).toBe(0);
    expect(await reasonFor('KE')).toBe('SEGMENT_ROLLED_BACK');
    expect(await reasonFor('GH')).toBe('ROLLOUT');

    const manager = await signedIn('release-manager');
    await manager.getByRole('button', { name: 'Resume kenya…' }).click();
    await manager.getByLabel('Reason (recorded in history)').fill('fixed in 2.4.1');
    await manager.getByRole('button', { name: 'Resume the segment' }).click();
    await manager.locator('.rolled-back-segments').filter({ hasText: '—' }).waitFor();
    expect(await reasonFor('KE')).toBe('RULE'); // Kenya's rule applies again
  });
});
