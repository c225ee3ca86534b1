import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import type { SwitchyardClient } from '@switchyard/client-sdk';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';

/**
 * The console in a real browser (Debian's Chromium through playwright-core) against the real
 * service on the embedded engine: what a release manager, an incident responder and a viewer do.
 * `npm run test:browser` builds the console first; CI installs chromium when it is missing.
 * Screenshots of the main screens go to docs/console/ (the README shows them).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'console');

describe('the console in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  const sdks = new ClientFactory({ appName: 'console-browser', metricsIntervalMs: 200, initTimeoutMs: 5_000 });
  let sdk: SwitchyardClient;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    app = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    for (const [key, percent, tags] of [
      ['payments.provider.mpesa', 20, ['payments', 'kenya']],
      ['payments.provider.airtel', 0, ['payments']],
      ['ledger.read-path', 100, ['ledger']],
    ] as const) {
      await app.admin.ok(
        'mutation($key: String!, $p: Float!, $tags: [String!]!) { createSlice(key: $key, percent: $p, tags: $tags, reason: "seed", owner: "payments-team") { key } }',
        {
          key,
          p: percent,
          tags: [...tags],
        },
      );
    }
    sdk = await sdks.create(app.baseUrl, { token: await app.tokenFor('sdk') });
  });

  afterAll(async () => {
    await sdks.closeAll();
    await browser?.close();
    await app?.close();
  });

  async function signedIn(role: 'release-manager' | 'incident-responder' | 'viewer'): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`a JavaScript dialog opened: ${dialog.message()}`);
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    return page;
  }

  it('a release manager signs in, creates a slice, moves it to 5 %, and sees a field error next to its field', async () => {
    const page = await signedIn('release-manager');
    await page.locator('tr[data-slice="payments.provider.mpesa"]').waitFor();
    // Who changed it last, from Slice.lastChange.
    await page.locator('tr[data-slice="payments.provider.mpesa"] .actor').filter({ hasText: 'by bootstrap-admin' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'slice-list.png'), fullPage: true });

    await page.getByRole('button', { name: 'New slice' }).click();
    await page.getByLabel('Key', { exact: true }).fill('checkout.new-tax-engine');
    await page.getByLabel('Tags (comma-separated)').fill('checkout');
    await page.getByLabel('Reason', { exact: true }).fill('strangling the tax engine');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'checkout.new-tax-engine' }).waitFor();

    await page.getByLabel('New share on NEW (%)').fill('5');
    await page.getByText('0 % → 5 %: about 5 % of subjects move to NEW').waitFor();
    await page.locator('input[name="rollout-reason"]').fill('day 1 of the ramp');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').filter({ hasText: 'Moved to 5 %.' }).waitFor();
    const slice = await app.admin.ok<{ slice: { percent: number } }>('{ slice(key: "checkout.new-tax-engine") { percent } }');
    expect(slice.slice.percent).toBe(5);

    // The service's own validation, shown next to the field it names (extensions.field).
    await page.getByLabel('New share on NEW (%)').fill('150');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page
      .locator('.field-error')
      .filter({ hasText: /percent/i })
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'slice-page.png'), fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('a release manager creates segments (a refused value shown at its constraint), targets them with ordered rules reordered by dragging, and explains a decision', async () => {
    const page = await signedIn('release-manager');
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('link', { name: 'New segment' }).click();
    await page.locator('input[name="segment-key"]').fill('kenya');
    await page.getByLabel('Attribute 1').fill('country');
    await page.getByLabel('Values 1 (one per line)').fill('KE');
    await page.getByRole('button', { name: 'Add constraint' }).click();
    await page.getByLabel('Attribute 2').fill('accountAge');
    await page.getByLabel('Operator 2').selectOption('NUM_GT');
    await page.getByLabel('Value 2').fill('not-a-number');
    await page.getByLabel('Reason', { exact: true }).fill('Kenya first');
    await page.getByRole('button', { name: 'Create segment' }).click();
    // The service's validation, next to the constraint it names (extensions.field = constraints[1]...).
    await page.locator('fieldset[data-constraint="1"] .field-error').waitFor();
    expect(await page.locator('fieldset[data-constraint="0"] .field-error').count()).toBe(0);
    await page.getByLabel('Value 2').fill('30');
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'kenya' }).waitFor();
    await app.admin.ok('mutation { createSegment(key: "staff", reason: "t", constraints: [{ attribute: "userId", operator: IN, values: ["s-1", "s-2"] }]) { key } }');

    await page.goto(`${app.baseUrl}/console/#/slices/payments.provider.airtel`);
    const editor = page.locator('form.targeting-editor');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    await editor.getByLabel('Rule 1 segments').selectOption(['staff']);
    await editor.getByLabel('Rule 1 percent').fill('100');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    await editor.getByLabel('Rule 2 segments').selectOption(['kenya']);
    await editor.getByLabel('Rule 2 percent').fill('5');
    // Kenya first: drag rule 2 above rule 1.
    await editor.locator('li[data-rule="1"] .handle').dragTo(editor.locator('li[data-rule="0"]'));
    expect(await editor.getByLabel('Rule 1 percent').inputValue()).toBe('5');
    await editor.locator('input[name="targeting-reason"]').fill('Kenya at 5 %, staff at 100 %');
    await editor.getByRole('button', { name: 'Save targeting' }).click();
    await editor.getByRole('status').filter({ hasText: 'Targeting saved.' }).waitFor();
    const saved = await app.admin.ok<{ slice: { targeting: { rules: { segments: string[]; percent: number }[] } } }>(
      '{ slice(key: "payments.provider.airtel") { targeting { rules { segments percent } } } }',
    );
    expect(saved.slice.targeting.rules).toEqual([
      { segments: ['kenya'], percent: 5 },
      { segments: ['staff'], percent: 100 },
    ]);

    const explain = page.locator('form.evaluate');
    await explain.getByLabel('Context (JSON)').fill('{"userId": "s-1", "country": "FR"}');
    await explain.getByRole('button', { name: 'Evaluate' }).click();
    await explain.getByRole('status').filter({ hasText: 'NEW: RULE (rule 2)' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'targeting.png'), fullPage: true });
  });

  it('a change made meanwhile is refused and said, not overwritten; a page cut from the stream says it is not connected', async () => {
    const page = await signedIn('release-manager');
    await page.goto(`${app.baseUrl}/console/#/slices/ledger.read-path`);
    await page.getByRole('heading', { name: 'ledger.read-path' }).waitFor();
    await page.getByLabel('New share on NEW (%)').fill('50');
    // Someone else moves the slice while this person is deciding.
    await app.admin.ok('mutation { setRollout(key: "ledger.read-path", percent: 90, reason: "someone else") { version } }');
    await page.locator('input[name="rollout-reason"]').fill('halve it');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone changed this meanwhile' }).waitFor();
    const slice = await app.admin.ok<{ slice: { percent: number } }>('{ slice(key: "ledger.read-path") { percent } }');
    expect(slice.slice.percent).toBe(90);

    // The stream cut: the badge says the page may be out of date.
    await page.route('**/sdk/v1/stream*', (route) => route.abort());
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Not connected' }).waitFor();
  });

  it('an incident responder rolls back from the list with a hostile reason; it stays text; the SDK follows; a release manager resumes', async () => {
    expect(sdk.decide('payments.provider.mpesa', { userId: 'u-7' })).toBeDefined();
    const page = await signedIn('incident-responder');
    const row = page.locator('tr[data-slice="payments.provider.mpesa"]');
    await row.getByRole('button', { name: 'Roll back…' }).click();
    const reason = '<script>alert("x")</script><img src=x onerror=alert(1)> salary run';
    const confirm = page.getByRole('button', { name: 'Roll back now' });
    expect(await confirm.isDisabled()).toBe(true); // no reason yet: nothing can be confirmed
    await page.getByLabel('Reason (recorded in history)').fill(reason);
    await confirm.click();
    await row.locator('.state-rolled_back').waitFor();
    // Without leaving the list: which services have the rollback.
    await page
      .getByRole('complementary', { name: 'Rollback progress' })
      .getByRole('status')
      .filter({ hasText: /All \d+ reporting instances have the rollback/ })
      .waitFor({ timeout: 20_000 });
    // The SDK has it (a rollback is delivered by stream within milliseconds).
    for (let i = 0; i < 100 && sdk.decide('payments.provider.mpesa', { userId: 'u-7' }) !== 'LEGACY'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sdk.decide('payments.provider.mpesa', { userId: 'u-7' })).toBe('LEGACY');

    // The slice page: followers catch up (the SDK reports its revision), the reason is text.
    await row.getByRole('link', { name: 'payments.provider.mpesa' }).click();
    await page.locator('tr[data-status="UP_TO_DATE"]').first().waitFor({ timeout: 20_000 });
    const history = page.locator('.history li').first();
    await history.locator('.reason').filter({ hasText: reason }).waitFor();
    expect(await page.locator('script:not([src]):not([type="importmap"])').count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'rolled-back.png'), fullPage: true });
    // No Resume for an incident responder; the service would refuse it anyway.
    expect(await page.getByRole('button', { name: 'Resume…' }).count()).toBe(0);

    const manager = await signedIn('release-manager');
    await manager.goto(`${app.baseUrl}/console/#/slices/payments.provider.mpesa`);
    await manager.getByRole('button', { name: 'Resume…' }).click();
    await manager.getByLabel('Reason (recorded in history)').fill('provider fixed');
    await manager.getByRole('button', { name: 'Resume', exact: true }).click();
    // Both pages update live, without a reload.
    await page.locator('.slice-header .state-active').waitFor();
    await page.locator('.history li').first().locator('.diff .after').filter({ hasText: 'ACTIVE' }).waitFor();
  });

  it('an incident responder rolls back every slice with a tag from the list, and watches the progress', async () => {
    sdk.decide('payments.provider.airtel', { userId: 'u-7' });
    const page = await signedIn('incident-responder');
    await page.getByLabel('Tag').selectOption('payments');
    await page.getByRole('button', { name: 'Roll back all tagged payments' }).click();
    await page.getByLabel('Reason (recorded in history)').fill('provider outage');
    await page.getByRole('button', { name: 'Roll back all', exact: true }).click();
    await page.locator('tr[data-slice="payments.provider.airtel"] .state-rolled_back').waitFor();
    await page.locator('tr[data-slice="payments.provider.mpesa"] .state-rolled_back').waitFor();
    const progress = page.getByRole('complementary', { name: 'Rollback progress' });
    await progress.getByRole('heading', { name: 'Rollback of every slice tagged payments' }).waitFor();
    await progress
      .getByRole('status')
      .filter({ hasText: /have the rollback/ })
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'rollback-all.png'), fullPage: true });
    const slices = await app.admin.ok<{ slices: { nodes: { key: string; state: string }[] } }>('{ slices(tag: "payments") { nodes { key state } } }');
    expect(slices.slices.nodes.every((s) => s.state === 'ROLLED_BACK')).toBe(true);
  });

  it('a viewer is offered no action, and the service refuses one sent with its session anyway', async () => {
    const page = await signedIn('viewer');
    await page.locator('tr[data-slice="ledger.read-path"]').waitFor();
    expect(await page.getByRole('button', { name: /Roll back|New slice|Resume/ }).count()).toBe(0);
    const refused = await page.evaluate(async () => {
      const session = (await (await fetch('/console/session')).json()) as { csrfToken: string };
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-switchyard-csrf': session.csrfToken },
        body: JSON.stringify({ query: 'mutation { rollback(key: "ledger.read-path", reason: "viewer") { key } }' }),
      });
      return ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;
    });
    expect(refused).toBe('FORBIDDEN');
  });

  it('sign-out ends the session on the server: the old cookie no longer works', async () => {
    const page = await signedIn('viewer');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'switchyard_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    // Reads (no CSRF token needed) with the old cookie: the session, the SDK snapshot.
    const headers = { cookie: `switchyard_session=${cookie!.value}` };
    expect(await (await fetch(`${app.baseUrl}/console/session`, { headers })).json()).toEqual({ signedIn: false });
    const response = await fetch(`${app.baseUrl}/sdk/v1/snapshot`, { headers });
    expect(response.status).toBe(401);
  });
});
