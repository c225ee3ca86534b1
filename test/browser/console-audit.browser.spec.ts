import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { sdkReportBody } from '../utils/traffic.js';

/**
 * The console's auditor and admin pages, and the list's followers count, in Chromium against the
 * real service on the embedded engine: history across everything with paging, verifyHistory and an
 * export that the CLI verifies offline; tokens created (secret once, copied), listed and revoked;
 * BEHIND followers counted in the list from the one list query. Screenshots go to docs/console/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'console');
const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const run = promisify(execFile);
jest.setTimeout(120_000);

type Role = 'admin' | 'release-manager' | 'incident-responder' | 'viewer';

describe('the console for auditors and admins, in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let work: string;
  const setRollout = 'mutation($key: String!, $p: Float!, $r: String!) { setRollout(key: $key, percent: $p, reason: $r) { key } }';

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'console-audit-'));
    // No scheduled checkpoint: the test signs the one it verifies against.
    app = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100', SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '1000000', SWITCHYARD_CHECKPOINT_EVERY_MINUTES: '1440' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await app.admin.ok('mutation { createSegment(key: "kenya", constraints: [{ attribute: "country", operator: IN, values: ["KE"] }], reason: "Kenyan users") { key } }');
    for (const key of ['payments.provider.mpesa', 'payments.provider.airtel', 'ledger.read-path']) {
      await app.admin.ok('mutation($key: String!) { createSlice(key: $key, tags: ["payments"], reason: "seed", owner: "payments-team") { key } }', { key });
    }
    // More than a page (50) of history, so that the page has to load more.
    for (let i = 1; i <= 55; i++) await app.admin.ok(setRollout, { key: 'ledger.read-path', p: i, r: `ramp step ${i}` });
  }, 180_000); // the machine is shared: starting the service and 60 changes can take a minute

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  async function signedIn(role: Role, prepare: (context: BrowserContext) => Promise<void> = async () => {}): Promise<Page & { errors: string[] }> {
    const context = await browser.newContext({ acceptDownloads: true });
    await prepare(context);
    const page = (await context.newPage()) as Page & { errors: string[] };
    page.errors = [];
    page.on('dialog', (dialog) => {
      throw new Error(`a JavaScript dialog opened: ${dialog.message()}`);
    });
    page.on('pageerror', (error) => page.errors.push(String(error)));
    page.on('console', (message) => message.type() === 'error' && page.errors.push(message.text()));
    await page.goto(`${app.baseUrl}/`);
    await page.getByLabel('Token').fill(await app.tokenFor(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    return page;
  }

  async function asAdversary(statements: string[]): Promise<void> {
    // Triggers off for this transaction only (the embedded engine's one role may): what an adversary with database access does.
    await app.dataSource.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      for (const sql of statements) await tx.query(sql);
    });
  }

  it('an auditor reads every change newest first, loads more, sees the chain verified, and exports what the CLI exports and verifies offline', async () => {
    // The CLI's token first: creating a token is a change too, and both exports must see the same chain.
    const env = { ...process.env, SWITCHYARD_URL: app.baseUrl, SWITCHYARD_TOKEN: await app.tokenFor('viewer', 'cli-auditor') };
    const page = await signedIn('viewer');
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('.verification[data-verdict="OK"]').waitFor();

    const head = (await app.admin.ok<{ history: { nodes: { position: string }[] } }>('{ history(first: 1) { nodes { position } } }')).history.nodes[0]!.position;
    expect(await page.locator('.head-position').textContent()).toBe(head);
    expect(await page.locator('.checked-rows').textContent()).toBe(head);
    expect(await page.locator('.first-broken').count()).toBe(0);

    // Newest first (the viewer's own token on top: tokens are history too), 50 a page, each with
    // its actor, reason, request id and linked slice.
    const items = page.locator('.history li');
    await items.first().waitFor();
    expect(await items.count()).toBe(50);
    expect(await items.first().getAttribute('data-position')).toBe(head);
    const ramp = items.filter({ hasText: 'ramp step 55' });
    expect(await ramp.locator('.actor').textContent()).toBe('bootstrap-admin');
    expect(await ramp.textContent()).toMatch(/request \S+/);
    expect(await ramp.locator('a.subject').getAttribute('href')).toBe('#/slices/ledger.read-path');
    await ramp.locator('.diff tr').filter({ hasText: 'basisPoints' }).filter({ hasText: '5400' }).filter({ hasText: '5500' }).waitFor();

    await page.getByRole('button', { name: 'Load more' }).click();
    await items.nth(50).waitFor();
    // (The tests' program has no DOM types: each element is typed by what is read of it.)
    const positions = await items.evaluateAll((lis) => lis.map((li) => Number((li as unknown as { getAttribute(name: string): string | null }).getAttribute('data-position'))));
    expect(positions).toEqual(Array.from({ length: Number(head) }, (_, i) => Number(head) - i)); // every row once, no gap, newest first
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    // Among the oldest rows: the segment, linked to its page.
    const segmentRow = items.filter({ hasText: 'Kenyan users' });
    expect(await segmentRow.locator('a.subject').getAttribute('href')).toBe('#/segments/kenya');

    // A change made meanwhile appears on top without a reload.
    await app.admin.ok(setRollout, { key: 'payments.provider.airtel', p: 7, r: 'while the auditor watched' });
    await page
      .locator(`.history li[data-position="${Number(head) + 1}"]`)
      .filter({ hasText: 'while the auditor watched' })
      .waitFor();
    expect(await items.first().getAttribute('data-position')).toBe(String(Number(head) + 1));
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png') });

    // Export: a download made in the page, then the CLI's own export of the same chain, then the CLI verifies the download offline.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^switchyard-history-.+\.ndjson$/);
    const fromConsole = join(work, 'console.ndjson');
    await download.saveAs(fromConsole);
    const fromCli = join(work, 'cli.ndjson');
    await run(process.execPath, [CLI, 'history', 'export', '--out', fromCli], { env });
    const [consoleLines, cliLines] = [readFileSync(fromConsole, 'utf8').split('\n'), readFileSync(fromCli, 'utf8').split('\n')];
    expect(consoleLines.length).toBe(Number(head) + 3); // header, rows, the final newline
    const header = (line: string) => ({ ...(JSON.parse(line) as Record<string, unknown>), exportedAt: 'at export' });
    expect(header(consoleLines[0]!)).toEqual(header(cliLines[0]!));
    expect(consoleLines.slice(1)).toEqual(cliLines.slice(1)); // byte for byte

    const checkpoint = (await app.admin.ok<{ checkpointHistory: unknown }>('mutation { checkpointHistory { scheme position headHash signedAt keyId signature } }'))
      .checkpointHistory;
    const key = (await app.admin.ok<{ historyCheckpointKey: { publicKeyPem: string } }>('{ historyCheckpointKey { publicKeyPem } }')).historyCheckpointKey;
    writeFileSync(join(work, 'checkpoint.json'), JSON.stringify(checkpoint));
    writeFileSync(join(work, 'key.pub'), key.publicKeyPem);
    const verified = await run(
      process.execPath,
      [CLI, 'verify-history', '--json', '--file', fromConsole, '--checkpoint', join(work, 'checkpoint.json'), '--public-key', join(work, 'key.pub')],
      { env },
    );
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, verdict: 'OK', checkpointPosition: String(Number(head) + 1) });

    // Someone with database access rewrites a reason: the page says where the chain breaks.
    await asAdversary(["UPDATE history SET reason = 'nothing happened' WHERE position = 3"]);
    await page.getByRole('button', { name: 'Verify again' }).click();
    await page.locator('.verification[data-verdict="MISMATCH_AT_POSITION"]').waitFor();
    expect(await page.locator('.first-broken').textContent()).toBe('3');
    await page.getByRole('status').filter({ hasText: 'BROKEN' }).waitFor();
    expect(page.errors).toEqual([]);
  });

  it('an admin creates a token, sees and copies its secret once, and revokes it with a reason; others get no tokens page', async () => {
    const page = await signedIn('admin', (context) => context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl }));
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.locator('tr[data-token="bootstrap-admin"]').waitFor();

    await page.getByRole('button', { name: 'New token' }).click();
    await page.locator('input[name="token-name"]').fill('ci-deployer');
    await page.locator('select[name="token-role"]').selectOption('RELEASE_MANAGER');
    await page.locator('input[name="token-expires"]').fill('2099-01-31T12:00');
    await page.locator('input[name="token-reason"]').fill('the deploy pipeline ramps slices');
    await page.getByRole('button', { name: 'Create token' }).click();

    const panel = page.getByRole('region', { name: 'New token secret' });
    const secret = (await panel.locator('.secret').textContent())!;
    expect(secret).toMatch(/^sy_/);
    await panel.getByRole('button', { name: 'Copy' }).click();
    await panel.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    // The secret works, with the role chosen.
    const me = await app.as(secret).ok<{ slices: { nodes: unknown[] } }>('{ slices(first: 1) { nodes { key } } }');
    expect(me.slices.nodes).toHaveLength(1);

    const row = page.locator('tr[data-token="ci-deployer"]');
    await row.filter({ hasText: 'release manager' }).filter({ hasText: 'active' }).waitFor();
    expect(await row.textContent()).toContain('2099');
    await page.getByRole('button', { name: 'I stored it: close' }).click();
    await panel.waitFor({ state: 'detached' });
    // Gone from the page: neither in the document nor anywhere the page's script can still reach it.
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('button', { name: 'Revoke…' }).click();
    const confirm = page.getByRole('button', { name: 'Revoke', exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Reason (recorded in history)').fill('pipeline retired');
    await confirm.click();
    await row.filter({ hasText: 'revoked' }).waitFor();
    expect(await row.getByRole('button', { name: 'Revoke…' }).count()).toBe(0);
    expect((await app.as(secret).request('{ slices(first: 1) { nodes { key } } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await page.screenshot({ path: join(SCREENSHOTS, 'tokens.png') });

    // Both changes are history, by the admin's token, with their reasons.
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('.history li').filter({ hasText: 'pipeline retired' }).waitFor();
    await page.locator('.history li').filter({ hasText: 'the deploy pipeline ramps slices' }).waitFor();
    expect(page.errors).toEqual([]);

    const manager = await signedIn('release-manager');
    expect(await manager.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    await manager.goto(`${app.baseUrl}/console/#/tokens`);
    await manager.getByRole('alert').filter({ hasText: 'may not manage tokens' }).waitFor();
    expect(await manager.locator('table.tokens').count()).toBe(0);
  });

  it('the slice list counts each slice’s BEHIND followers, in one stats query for the whole list', async () => {
    const sdkToken = await app.tokenFor('sdk');
    const revisionOf = async (key: string) =>
      (await app.admin.ok<{ slice: { changedAtRevision: number } }>('query($key: String!) { slice(key: $key) { changedAtRevision } }', { key })).slice.changedAtRevision;
    const report = async (instanceId: string, key: string, revision: number) => {
      const body = sdkReportBody('payments-api', instanceId, { [key]: { NEW: 1, LEGACY: 1 } }, 10_000, { revision, metricsIntervalMs: 60_000 });
      const response = await fetch(`${app.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
    };
    const mpesa = await revisionOf('payments.provider.mpesa');
    const airtel = await revisionOf('payments.provider.airtel');
    await report('pod-1', 'payments.provider.mpesa', mpesa - 1);
    await report('pod-2', 'payments.provider.mpesa', mpesa - 1);
    await report('pod-3', 'payments.provider.mpesa', mpesa);
    // An instance holds one revision for every slice: the airtel followers are instances of their own.
    await report('pod-4', 'payments.provider.airtel', airtel - 1);
    await report('pod-5', 'payments.provider.airtel', airtel);
    await app.app.get(TrafficIngestService).flush();

    const page = await signedIn('incident-responder');
    await page.locator('tr[data-slice="ledger.read-path"]').waitFor(); // the first load done: only the reload's requests are counted
    const graphqlBodies: string[] = [];
    const responses: Promise<{ encoding: string | undefined; bytes: number }>[] = [];
    // The list's queries are GETs (the query in the URL), the rest POSTs.
    const isGraphql = (url: string) => new URL(url).pathname === '/graphql';
    page.on('request', (request) => isGraphql(request.url()) && graphqlBodies.push(request.postData() ?? decodeURIComponent(new URL(request.url()).search)));
    page.on('response', (response) => {
      if (isGraphql(response.url())) responses.push(response.body().then((body) => ({ encoding: response.headers()['content-encoding'], bytes: body.length })));
    });
    await page.reload();
    const behind = (key: string) => page.locator(`tr[data-slice="${key}"] td`).nth(6);
    await page.locator('tr[data-slice="ledger.read-path"]').waitFor();
    // The rows come first, their stats (followers behind among them) in a second request.
    await behind('payments.provider.mpesa').filter({ hasNotText: '…' }).waitFor();
    expect(await behind('payments.provider.mpesa').textContent()).toBe('2');
    expect(await behind('payments.provider.airtel').textContent()).toBe('1');
    expect(await behind('ledger.read-path').textContent()).toBe('0');
    // Two requests for the whole list, whatever its length (the rows, then their stats): no query per row.
    expect(graphqlBodies.filter((body) => body.includes('followers'))).toHaveLength(1);
    expect(graphqlBodies).toHaveLength(2);
    // Compressed when worth it (over the middleware's 1 KB threshold): 1,000 rows are 340 KB of JSON (npm run bench:console).
    const answers = await Promise.all(responses);
    expect(answers).toHaveLength(2);
    for (const answer of answers) if (answer.bytes >= 1024) expect(['gzip', 'br']).toContain(answer.encoding);
    expect(page.errors).toEqual([]);
  });
});
