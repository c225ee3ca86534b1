import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { pathOutcome } from '../utils/outcomes.js';
import { sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * The slice page's Outcomes panel in Chromium against the real service on the embedded engine:
 * a usage report with outcomes and a comparison sample posted over HTTP as an SDK sends it, read
 * back side by side (docs/outcomes.md), the sample's diff shown as text whatever it holds, the
 * panel refreshing by itself, and the observation settings editable by a release manager only.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'console');
const KEY = 'ledger.balance-read';
const HOSTILE_DIFF = '$.balance: 100 ≠ 101\n$.note: "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>"';

type Role = 'release-manager' | 'viewer';

function withinTwoPercent(shown: string, exactMs: number): void {
  expect(shown).toMatch(/^\d+(\.\d+)? ms$/);
  expect(Math.abs(parseFloat(shown) / exactMs - 1)).toBeLessThanOrEqual(0.02);
}

describe('the Outcomes panel in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let sdkToken: string;

  const report = async (appName: string, more: Record<string, unknown>) => {
    const res = await fetch(`${app.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
      body: JSON.stringify(sdkReportBody(appName, `${appName}-1`, { [KEY]: { NEW: 0, LEGACY: 0 } }, 10_000, more)),
    });
    expect(res.status).toBe(202);
    await app.app.get(TrafficIngestService).flush();
  };
  /** `n` calls of `ms` milliseconds each, `failures` of them failed. */
  const calls = (n: number, ms: number, failures: number) =>
    pathOutcome(
      Array.from({ length: n }, () => ms),
      failures,
    );

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    app = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await app.admin.ok('mutation { createSlice(key: "ledger.balance-read", percent: 10, reason: "seed", owner: "ledger-team") { key } }');
    await sliceServed(app.app, KEY);
    sdkToken = await app.tokenFor('sdk');
    await report('ledger-api', {
      outcomes: { [KEY]: { LEGACY: calls(1_000, 20, 1), NEW: calls(500, 40, 10) } },
      comparisons: {
        [KEY]: {
          compared: 1_000,
          mismatches: 2,
          otherFailures: 0,
          timeouts: 0,
          samples: [{ at: '2026-12-02T10:01:02.345Z', served: 'LEGACY', subject: '9f86d081884c7d65', diff: HOSTILE_DIFF }],
        },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signedIn(role: Role): Promise<Page & { errors: string[] }> {
    const page = (await (await browser.newContext()).newPage()) as Page & { errors: string[] };
    page.errors = [];
    page.on('dialog', (dialog) => {
      throw new Error(`a JavaScript dialog opened: ${dialog.message()}`);
    });
    page.on('pageerror', (error) => page.errors.push(String(error)));
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.goto(`${app.baseUrl}/console/#/slices/${KEY}`);
    await page.getByRole('heading', { name: 'Outcomes' }).waitFor();
    return page;
  }

  it('shows both paths side by side, the comparison against its threshold, per app, over time, and the diff as text; refreshes by itself', async () => {
    const page = await signedIn('release-manager');
    const panel = page.locator('section.outcomes');
    const legacy = panel.locator('table.paths tr[data-path="LEGACY"]');
    const next = panel.locator('table.paths tr[data-path="NEW"]');
    await legacy.locator('td').first().filter({ hasText: '1000' }).waitFor();
    const [legacyCalls, legacyFailures, ...legacyMs] = await legacy.locator('td').allInnerTexts();
    expect([legacyCalls, legacyFailures]).toEqual(['1000', '0.100 % (1)']);
    // p50, p95, p99 within the histogram's 2 % of what was injected.
    for (const text of legacyMs) withinTwoPercent(text, 20);
    expect(await next.locator('td').nth(1).innerText()).toBe('2.00 % (10)');
    for (const text of (await next.locator('td').allInnerTexts()).slice(2)) withinTwoPercent(text, 40);
    // NEW - LEGACY: 1.9 points, with its interval.
    expect(await panel.locator('tr[data-path="DIFFERENCE"] td').nth(1).innerText()).toMatch(/^\+1\.90 % \(95 %: \+\d\.\d+ % to \+\d\.\d+ %\)$/);
    expect(await panel.locator('.mismatch-rate').innerText()).toMatch(/^0\.200 % \(95 %: 0\.0\d+ % to 0\.\d+ %\) against 0\.1 %$/);
    await panel
      .locator('[data-comparison-status="NOT_ENOUGH_DATA"]')
      .filter({ hasText: /more comparisons needed/ })
      .waitFor();
    await panel.locator('table.by-app tr[data-app="ledger-api"]').waitFor();
    expect(await panel.locator('table.series tbody tr').count()).toBeGreaterThan(0);

    // The diff is the SDK's text, shown as such: no element made of it, no script run.
    expect(await panel.locator('pre.diff-text').first().textContent()).toBe(HOSTILE_DIFF);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // Another app reports while the page is open: the panel shows it without a reload.
    await report('wallet-api', { outcomes: { [KEY]: { NEW: calls(100, 40, 0) } } });
    await panel.locator('table.by-app tr[data-app="wallet-api"]').waitFor({ timeout: 15_000 });
    await next.locator('td').first().filter({ hasText: '600' }).waitFor();

    // The window selector: the last 5 minutes hold the same reports.
    await panel.getByRole('button', { name: '5 min' }).click();
    // The hour's series (20 rows here) stays until the 5 minutes' answer replaces it: wait for that.
    await panel.locator('table.series tbody tr').nth(5).waitFor({ state: 'detached' });
    await panel.locator('table.series tbody tr').nth(4).waitFor();
    expect(await panel.locator('table.series tbody tr').count()).toBe(5);
    await page.screenshot({ path: join(SCREENSHOTS, 'outcomes.png'), fullPage: true });
    expect(page.errors).toEqual([]);
  });

  it('a release manager changes the observation settings (a refused value said at its field); a viewer sees them and no button', async () => {
    const page = await signedIn('release-manager');
    const form = page.locator('form.observation');
    await form.getByLabel('Mismatch threshold (%)').fill('150');
    await form.locator('input[name="observation-reason"]').fill('dual running');
    await form.getByRole('button', { name: 'Save observation' }).click();
    await form
      .locator('.field-error')
      .filter({ hasText: /mismatchThresholdPercent|threshold|100/i })
      .waitFor();

    await form.getByLabel('Mismatch threshold (%)').fill('0.5');
    await form.getByLabel('Shadow share (% of compare calls)').fill('5');
    await form.getByLabel('Watched (SDKs report every few seconds)').check();
    await form.getByRole('button', { name: 'Save observation' }).click();
    await form.getByRole('status').filter({ hasText: 'Observation saved.' }).waitFor();
    const saved = await app.admin.ok<{ slice: { watched: boolean; shadowPercent: number; mismatchThresholdPercent: number } }>(
      `{ slice(key: "${KEY}") { watched shadowPercent mismatchThresholdPercent } }`,
    );
    expect(saved.slice).toEqual({ watched: true, shadowPercent: 5, mismatchThresholdPercent: 0.5 });
    // Judged against the new threshold: 0.2 % is now WITHIN 0.5 % or still undecided, never ABOVE.
    await page.locator('.mismatch-rate').filter({ hasText: 'against 0.5 %' }).waitFor();

    const viewer = await signedIn('viewer');
    const settings = viewer.locator('dl.observation');
    await settings.getByText('5 % of compare calls').waitFor();
    await settings.getByText('0.5 %').waitFor();
    expect(await viewer.locator('form.observation').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Save observation' }).count()).toBe(0);
    expect(page.errors).toEqual([]);
    expect(viewer.errors).toEqual([]);
  });
});
