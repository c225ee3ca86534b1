import { jest } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';

/**
 * The slice list at more slices than a screen holds, in Chromium against the real service on the
 * embedded engine. The list renders only the rows in and near the viewport (console/src/window-rows.ts):
 * every slice must still be reachable by scrolling, by the search box and by the keyboard, at a
 * desk's width and at a phone's (where cells wrap and rows differ in height), and a screen reader
 * must be told where each row stands among them all.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SLICES = 620; // more than one page of the list's query (500): both pages are read
jest.setTimeout(120_000);

// The page's globals and elements, as far as these tests use them (the tests' TypeScript has no DOM library).
interface PageElement {
  readonly parentElement: PageElement | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; bottom: number };
  closest(selector: string): PageElement | null;
}
declare const window: { readonly innerHeight: number; scrollBy(x: number, y: number): void; scrollTo(x: number, y: number): void };
declare const document: { readonly documentElement: { readonly scrollHeight: number }; readonly activeElement: PageElement | null };

const keyOf = (n: number) => `long.route-${String(n).padStart(4, '0')}`;

describe('the slice list at 620 slices, in Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await createTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    for (let i = 0; i < SLICES; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, SLICES - i) }, (_, j) =>
          app.admin.ok('mutation($key: String!, $p: Float!, $tags: [String!]!) { createSlice(key: $key, percent: $p, tags: $tags, reason: "seed") { key } }', {
            key: keyOf(i + j),
            p: (i + j) % 101,
            // Every seventh slice carries many long tags: at a phone's width its row wraps to several lines.
            tags: (i + j) % 7 === 0 ? ['payments', 'a-rather-long-tag-name-for-the-ledger-team', 'kenya', 'checkout-and-settlement'] : ['payments'],
          }),
        ),
      );
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function listPage(viewport: { width: number; height: number }): Promise<Page & { errors: string[] }> {
    const context = await browser.newContext({ viewport });
    const page = (await context.newPage()) as Page & { errors: string[] };
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(String(error)));
    page.on('console', (message) => message.type() === 'error' && page.errors.push(message.text()));
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor('incident-responder'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .locator('.count')
      .filter({ hasText: `${SLICES} of ${SLICES} slices` })
      .waitFor();
    await page.locator(`tr[data-slice="${keyOf(0)}"]`).waitFor();
    return page;
  }

  const renderedKeys = (page: Page) => page.locator('tr[data-slice]').evaluateAll((rows) => (rows as unknown as PageElement[]).map((r) => r.getAttribute('data-slice')!));

  /** Scrolls to the bottom until the page stops growing (rows measured as they render may change its height). */
  async function scrollToBottom(page: Page): Promise<void> {
    for (let last = -1, i = 0; i < 20; i++) {
      const height = await page.evaluate(() => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        return document.documentElement.scrollHeight;
      });
      await page.waitForTimeout(100); // a frame or two for the rows to render and be measured
      if (height === last) return;
      last = height;
    }
  }

  for (const [name, viewport] of [
    ['at a desk (1280 px)', { width: 1280, height: 800 }],
    ['on a phone (390 px)', { width: 390, height: 844 }],
  ] as const) {
    it(`${name}: a screenful of rows is rendered, every slice is reached by scrolling, in order, and the table says where each row stands`, async () => {
      const page = await listPage(viewport);
      const first = await renderedKeys(page);
      expect(first[0]).toBe(keyOf(0));
      expect(first.length).toBeGreaterThan(5);
      expect(first.length).toBeLessThan(100);
      expect(await page.locator('table.slices').getAttribute('aria-rowcount')).toBe(String(SLICES + 1));
      expect(await page.locator(`tr[data-slice="${keyOf(0)}"]`).getAttribute('aria-rowindex')).toBe('2');

      // Scrolled down step by step, every key appears once, in order, with no gap.
      const seen = new Set<string>(first);
      for (let i = 0; i < 400 && !seen.has(keyOf(SLICES - 1)); i++) {
        await page.evaluate(() => window.scrollBy(0, Math.round(window.innerHeight * 0.8)));
        await page.waitForTimeout(30);
        for (const key of await renderedKeys(page)) seen.add(key);
      }
      expect([...seen].sort()).toEqual(Array.from({ length: SLICES }, (_, n) => keyOf(n)));

      // At the bottom, the last row is on screen, ends where the page ends, and is told as the last.
      await scrollToBottom(page);
      const last = page.locator(`tr[data-slice="${keyOf(SLICES - 1)}"]`);
      await last.waitFor();
      expect(await last.getAttribute('aria-rowindex')).toBe(String(SLICES + 1));
      const gap = await last.evaluate((element) => {
        const row = element as unknown as PageElement;
        const body = row.parentElement!;
        return body.getBoundingClientRect().bottom - row.getBoundingClientRect().bottom;
      });
      expect(Math.abs(gap)).toBeLessThan(2); // no space left for rows that are not there
      expect(await last.isVisible()).toBe(true);
      expect(page.errors).toEqual([]);
      await page.context().close();
    });
  }

  it('the search finds a slice far down the list, and clearing it brings the top of the list back', async () => {
    const page = await listPage({ width: 1280, height: 800 });
    const search = page.getByLabel('Search by key');
    await search.fill('route-0611');
    await page
      .locator('.count')
      .filter({ hasText: `1 of ${SLICES} slices` })
      .waitFor();
    expect(await renderedKeys(page)).toEqual([keyOf(611)]);
    expect(await page.locator('table.slices').getAttribute('aria-rowcount')).toBe('2');
    expect(await page.locator(`tr[data-slice="${keyOf(611)}"]`).getAttribute('aria-rowindex')).toBe('2');
    // It acts like any row: its rollback is offered.
    await page
      .locator(`tr[data-slice="${keyOf(611)}"]`)
      .getByRole('button', { name: 'Roll back…' })
      .waitFor();

    await search.fill('');
    await page
      .locator('.count')
      .filter({ hasText: `${SLICES} of ${SLICES} slices` })
      .waitFor();
    const keys = await renderedKeys(page);
    expect(keys[0]).toBe(keyOf(0));
    expect(keys.length).toBeLessThan(100);

    // A filter that keeps every seventh slice (the long tags) keeps them in order, and numbers them anew.
    await page.getByLabel('Tag').selectOption('kenya');
    await page
      .locator('.count')
      .filter({ hasText: `${Math.ceil(SLICES / 7)} of ${SLICES} slices` })
      .waitFor();
    const tagged = await renderedKeys(page);
    expect(tagged.slice(0, 3)).toEqual([keyOf(0), keyOf(7), keyOf(14)]);
    expect(await page.locator(`tr[data-slice="${keyOf(7)}"]`).getAttribute('aria-rowindex')).toBe('3');
    expect(page.errors).toEqual([]);
    await page.context().close();
  });

  it('the keyboard walks down the list past the rows first rendered, each focused link on screen', async () => {
    const page = await listPage({ width: 1280, height: 800 });
    const initial = (await renderedKeys(page)).length;
    await page.locator(`tr[data-slice="${keyOf(0)}"] a`).focus();
    // Each row holds two focusable controls (its key's link and its Roll back… button).
    const steps = (initial + 20) * 2;
    for (let i = 0; i < steps; i++) await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement!;
      const row = element.closest('tr[data-slice]');
      const box = element.getBoundingClientRect();
      return { key: row?.getAttribute('data-slice') ?? null, onScreen: box.top >= 0 && box.bottom <= window.innerHeight };
    });
    expect(focused.key).toBe(keyOf(initial + 20));
    expect(focused.onScreen).toBe(true);
    expect(page.errors).toEqual([]);
    await page.context().close();
  });
});
