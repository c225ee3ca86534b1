import { randomUUID } from 'node:crypto';
import { REFUSAL_REASONS, TRAFFIC_SOURCES, TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock } from '../utils/manual-clock.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { type Exposition, parseExposition } from '../utils/prometheus.js';
import { readTraffic, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * Usage reports are untrusted input (docs/traffic.md, "Untrusted reports"): what an adversary with
 * an `sdk` token tried, over real HTTP against the real service, and what must hold each time: the
 * hostile input is refused or dropped and counted, and an honest report next to it is counted
 * exactly, in the same flush.
 */

type Counts = { NEW: number; LEGACY: number };

/** Reports in this file cover a minute unless they say otherwise. */
function sdkBody(appName: string, instanceId: string, slices: Record<string, Counts>, spanMs = 60_000) {
  return sdkReportBody(appName, instanceId, slices, spanMs);
}

function unleashMetrics(appName: string, instanceId: string, toggles: Record<string, { yes: number; no: number }>, spanMs = 60_000) {
  const stop = new Date();
  return { appName, instanceId, bucket: { start: new Date(stop.getTime() - spanMs).toISOString(), stop: stop.toISOString(), toggles } };
}

/** A client of the report endpoints with one token (`Bearer` for ours, bare for Unleash's, as the SDKs send them). */
function reporter(t: TestApp, token: string) {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: path.startsWith('/sdk/') ? `Bearer ${token}` : token, ...headers },
      body: JSON.stringify(body),
    });
  return {
    sdk: (body: unknown) => post('/sdk/v1/metrics', body),
    unleashMetrics: (body: unknown) => post('/api/client/metrics', body),
    register: (appName: string, instanceId: string) => post('/api/client/register', { appName, instanceId, sdkVersion: 'unleash-node-sdk:6.12.1', strategies: [] }),
    features: (appName: string, instanceId: string) =>
      fetch(`${t.baseUrl}/api/client/features`, { headers: { authorization: token, 'unleash-appname': appName, 'unleash-instanceid': instanceId } }),
  };
}

async function errorOf(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions;
}

async function scrape(t: TestApp): Promise<Exposition> {
  return parseExposition(await (await fetch(`${t.baseUrl}/metrics`)).text());
}

const refused = (m: Exposition, source: string, reason: string) => m.count('switchyard_traffic_refused_total', { source, reason });

async function count(t: TestApp, sql: string, params: unknown[]): Promise<number> {
  const rows: { n: string }[] = await t.dataSource.query(`SELECT count(*)::text AS n FROM (${sql}) x`, params);
  return Number(rows[0]!.n);
}

/** A slice with no traffic yet, served by the instance (so reports may count it). */
async function servedSlice(t: TestApp, prefix: string): Promise<string> {
  const key = uniqueKey(prefix);
  await createSlice(t.admin, { key });
  await sliceServed(t.app, key);
  return key;
}

describe('hostile usage reports, default limits', () => {
  let t: TestApp;
  let attacker: ReturnType<typeof reporter>;
  let honest: ReturnType<typeof reporter>;

  beforeAll(async () => {
    // A long flush interval: each test flushes when it means to, so hostile and honest reports
    // meet in the same batch.
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '600000' });
    attacker = reporter(t, await t.tokenFor('sdk', 'attacker'));
    honest = reporter(t, await t.tokenFor('sdk', 'honest'));
  });
  afterAll(async () => {
    await t?.close();
  });

  const ingest = () => t.app.get(TrafficIngestService);

  it('refuses 2^53 - 1 decisions with a coded 400 naming the slice; the honest report in the same flush is counted exactly', async () => {
    const key = await servedSlice(t, 'hostile.max');
    const before = ingest().stats();
    const res = await attacker.sdk(sdkBody('greedy-app', 'pod-1', { [key]: { NEW: Number.MAX_SAFE_INTEGER, LEGACY: 0 } }));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'TRAFFIC_COUNTS_IMPLAUSIBLE', field: `bucket.slices[${JSON.stringify(key)}]` });
    // Many slices each under the ceiling, too many together: the total is named.
    const spread = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [i === 0 ? key : `other.${i}`, { NEW: 25_000_000, LEGACY: 0 }]));
    const total = await attacker.sdk(sdkBody('greedy-app', 'pod-1', spread));
    expect(await errorOf(total)).toMatchObject({ errorCode: 'TRAFFIC_COUNTS_IMPLAUSIBLE', field: 'bucket.slices' });
    // Unleash SDKs do not act on a refusal: dropped (202) and counted.
    expect((await attacker.unleashMetrics(unleashMetrics('greedy-app', 'pod-2', { [key]: { yes: Number.MAX_SAFE_INTEGER, no: 0 } }))).status).toBe(202);

    expect((await honest.sdk(sdkBody('honest-app', 'pod-1', { [key]: { NEW: 12, LEGACY: 30 } }))).status).toBe(202);
    expect((await honest.unleashMetrics(unleashMetrics('honest-unleash', 'pod-1', { [key]: { yes: 1, no: 2 } }))).status).toBe(202);
    await ingest().flush();

    const after = ingest().stats();
    expect(after.failedFlushes).toBe(before.failedFlushes);
    expect(after.droppedDecisions).toBe(before.droppedDecisions);
    const view = await readTraffic(t.admin, key);
    expect(view.traffic.last5Minutes).toMatchObject({ new: 13, legacy: 32 });
    expect(view.traffic.byApp).toEqual([
      { appName: 'honest-app', new: 12, legacy: 30 },
      { appName: 'honest-unleash', new: 1, legacy: 2 },
    ]);
    expect(await count(t, "SELECT 1 FROM sdk_instances WHERE app_name = 'greedy-app'", [])).toBe(0);

    const m = await scrape(t);
    expect(refused(m, 'sdk_metrics', 'implausible')).toBe(2);
    expect(refused(m, 'unleash_metrics', 'implausible')).toBe(1);
  });

  it('drops keys that are not slices before buffering them: junk cannot crowd out real reports', async () => {
    const key = await servedSlice(t, 'hostile.junk');
    const before = ingest().stats();
    // 12 reports of 10,000 junk keys each: 240,000 cells if they were kept, more than the buffer holds.
    for (let r = 0; r < 12; r++) {
      const junk = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`junk.${r}.${i}`, { NEW: 1, LEGACY: 1 }]));
      expect((await attacker.sdk(sdkBody('junk-app', 'pod-1', junk))).status).toBe(202);
    }
    const toggles = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`junk-toggle-${i}`, { yes: 1, no: 1 }]));
    expect((await attacker.unleashMetrics(unleashMetrics('junk-app', 'pod-2', toggles))).status).toBe(202);
    expect((await honest.sdk(sdkBody('honest-app', 'pod-2', { [key]: { NEW: 5, LEGACY: 6 } }))).status).toBe(202);
    await ingest().flush();

    const after = ingest().stats();
    expect(after.unknownSlices - before.unknownSlices).toBe(125_000);
    expect(after.acceptedReports - before.acceptedReports).toBe(14);
    expect(after.droppedReports).toBe(before.droppedReports);
    expect((await readTraffic(t.admin, key)).traffic.last5Minutes).toMatchObject({ new: 5, legacy: 6 });
    expect(await count(t, "SELECT 1 FROM traffic_buckets WHERE slice_key LIKE 'junk%'", [])).toBe(0);
    expect((await scrape(t)).value('switchyard_traffic_unknown_slices_total')).toBe(after.unknownSlices);
  });

  it('takes a fleet of 2,000 instances of one app with the default caps', async () => {
    const key = await servedSlice(t, 'hostile.fleet');
    const before = ingest().stats();
    const app = uniqueKey('fleet-app');
    for (let i = 0; i < 2_000; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) => honest.sdk(sdkBody(app, `pod-${i + j}`, { [key]: { NEW: 1, LEGACY: 2 } })));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(202);
    }
    await ingest().flush();
    expect(ingest().stats().acceptedReports - before.acceptedReports).toBe(2_000);
    expect(await count(t, 'SELECT 1 FROM sdk_instances WHERE app_name = $1', [app])).toBe(2_000);
    expect((await readTraffic(t.admin, key)).traffic.last5Minutes).toMatchObject({ new: 2_000, legacy: 4_000 });
  });

  it('refuses names that PostgreSQL cannot store exactly, or that hold control characters, with a coded 400', async () => {
    for (const [res, field] of [
      // Text no column can hold exactly is refused at the door, before the report is read
      // (common/http/storable-body.ts): counted with the HTTP requests, not here.
      [await attacker.sdk(sdkBody('app-\uD83D', 'pod-1', {})), 'appName'],
      [await attacker.sdk(sdkBody('app', 'pod\u0000', {})), 'instanceId'],
      [await attacker.register('app-\uDCB0', 'pod-1'), 'appName'],
      // Control characters are stored exactly but refused as names: counted as invalid reports.
      [await attacker.sdk(sdkBody('app\u0001', 'pod-1', {})), 'appName'],
      [await attacker.sdk(sdkBody('app', 'pod\u007f', {})), 'instanceId'],
      [await attacker.register('app\u001b[2J', 'pod-1'), 'appName'],
      [await attacker.unleashMetrics(unleashMetrics('app', 'pod\u0007', {})), 'instanceId'],
    ] as const) {
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field });
    }
    const m = await scrape(t);
    expect(refused(m, 'sdk_metrics', 'invalid')).toBeGreaterThanOrEqual(2);
    expect(refused(m, 'unleash_register', 'invalid')).toBeGreaterThanOrEqual(1);
    expect(refused(m, 'unleash_metrics', 'invalid')).toBeGreaterThanOrEqual(1);
  });

  it('a row the database refuses costs only itself: the batch is bisected and the rest written', async () => {
    const key = await servedSlice(t, 'hostile.poison');
    // A constraint of this test's own: the database now refuses count rows of one app, as it
    // would refuse a row no validation foresaw.
    await t.dataSource.query("ALTER TABLE traffic_buckets ADD CONSTRAINT test_poison CHECK (app_name <> 'poison-app')");
    try {
      const before = ingest().stats();
      for (let i = 0; i < 20; i++) expect((await honest.sdk(sdkBody(`honest-${i}`, 'pod-1', { [key]: { NEW: i, LEGACY: 1 } }))).status).toBe(202);
      expect((await attacker.sdk(sdkBody('poison-app', 'pod-1', { [key]: { NEW: 7, LEGACY: 7 } }))).status).toBe(202);
      await ingest().flush();

      const after = ingest().stats();
      expect(after.failedFlushes - before.failedFlushes).toBe(1);
      // Its NEW and LEGACY cells; its instance and follower rows are fine and written.
      expect(after.rejectedRows - before.rejectedRows).toBe(2);
      expect(after.droppedDecisions - before.droppedDecisions).toBe(14);
      const view = await readTraffic(t.admin, key);
      expect(view.traffic.last5Minutes).toMatchObject({ new: 190, legacy: 20 });
      expect(view.traffic.byApp).toHaveLength(20);
      expect(view.followers.map((f) => f.appName)).toContain('poison-app');
      expect((await scrape(t)).value('switchyard_traffic_rejected_rows_total')).toBe(after.rejectedRows);
    } finally {
      await t.dataSource.query('ALTER TABLE traffic_buckets DROP CONSTRAINT test_poison');
    }
  });

  it('labels refusals only with the closed sets of sources and reasons', async () => {
    const m = await scrape(t);
    expect([...m.labelValues('switchyard_traffic_refused_total', 'source')].sort()).toEqual([...TRAFFIC_SOURCES].sort());
    expect([...m.labelValues('switchyard_traffic_refused_total', 'reason')].sort()).toEqual([...REFUSAL_REASONS].sort());
    expect(m.series('switchyard_traffic_refused_total')).toHaveLength(TRAFFIC_SOURCES.length * REFUSAL_REASONS.length);
  });
});

describe('hostile usage reports, saturating sums', () => {
  let t: TestApp;

  beforeAll(async () => {
    // A ceiling so high that 2^53 - 1 per report is plausible over a day: what a cell then sums.
    // The service's clock stands still: every report lands in one minute's bucket, as the sums below
    // assume (on the system's clock a run across a minute boundary split them into two rows, each
    // under the limit, and the SQL sum of the two exceeded it).
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '600000', SWITCHYARD_TRAFFIC_MAX_DECISIONS_PER_SECOND: '1000000000000' }, { clock: new ManualClock() });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sums beyond the largest bigint saturate, in the buffer and in SQL, and never fail a flush', async () => {
    const r = reporter(t, await t.tokenFor('sdk'));
    const key = await servedSlice(t, 'hostile.saturate');
    const ingest = t.app.get(TrafficIngestService);
    const day = 24 * 3_600_000;
    const huge = { [key]: { NEW: Number.MAX_SAFE_INTEGER, LEGACY: 0 } };
    // 600 + 600 reports of 2^53 - 1: over 2^63 - 1 in all, reached in SQL (two flushes of less each).
    for (let flush = 0; flush < 2; flush++) {
      for (let i = 0; i < 600; i += 50) {
        for (const res of await Promise.all(Array.from({ length: 50 }, () => r.sdk(sdkBody('huge-app', 'pod-1', huge, day))))) expect(res.status).toBe(202);
      }
      expect((await r.sdk(sdkBody('honest-app', `pod-${flush}`, { [key]: { NEW: 1, LEGACY: 2 } }))).status).toBe(202);
      await ingest.flush();
    }
    // And 1,100 at once: over 2^63 - 1 in one buffered cell.
    for (let i = 0; i < 1_100; i += 50) {
      for (const res of await Promise.all(Array.from({ length: 50 }, () => r.sdk(sdkBody('huger-app', 'pod-1', huge, day))))) expect(res.status).toBe(202);
    }
    await ingest.flush();

    const stats = ingest.stats();
    expect(stats.failedFlushes).toBe(0);
    expect(stats.droppedDecisions).toBe(0);
    const cells: { app_name: string; count: string }[] = await t.dataSource.query(
      "SELECT app_name, sum(count)::text AS count FROM traffic_buckets WHERE slice_key = $1 AND path = 'NEW' GROUP BY app_name ORDER BY app_name",
      [key],
    );
    const max = (2n ** 63n - 1n).toString();
    expect(cells).toEqual([
      { app_name: 'honest-app', count: '2' },
      { app_name: 'huge-app', count: max },
      { app_name: 'huger-app', count: max },
    ]);
    const byApp = (await readTraffic(t.admin, key)).traffic.byApp;
    expect(byApp.find((a) => a.appName === 'honest-app')).toEqual({ appName: 'honest-app', new: 2, legacy: 4 });
  });
});

describe('hostile usage reports, instance and cell limits', () => {
  let t: TestApp;
  const caps = { perApp: 40, perToken: 60, cellsPerApp: 20, cellsPerToken: 30 };

  beforeAll(async () => {
    t = await createTestApp({
      SWITCHYARD_TRAFFIC_FLUSH_MS: '600000',
      SWITCHYARD_TRAFFIC_MAX_INSTANCES_PER_APP: String(caps.perApp),
      SWITCHYARD_TRAFFIC_MAX_INSTANCES_PER_TOKEN: String(caps.perToken),
      SWITCHYARD_TRAFFIC_MAX_CELLS_PER_APP: String(caps.cellsPerApp),
      SWITCHYARD_TRAFFIC_MAX_CELLS_PER_TOKEN: String(caps.cellsPerToken),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const ingest = () => t.app.get(TrafficIngestService);
  const instancesOf = (appName: string) => count(t, 'SELECT 1 FROM sdk_instances WHERE app_name = $1', [appName]);

  it('bounds the instances a flood of random ids records, per app and per token, counting the rest; other tokens are unaffected', async () => {
    const attacker = reporter(t, await t.tokenFor('sdk', 'flooder'));
    const honest = reporter(t, await t.tokenFor('sdk', 'fleet-owner'));
    const key = await servedSlice(t, 'hostile.flood');

    // Registrations with random ids: the app's cap.
    for (let i = 0; i < 200; i += 50) {
      const batch = Array.from({ length: 50 }, () => attacker.register('flood-app', randomUUID()));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(202);
    }
    // Reports with random ids, another app of the same token: what is left of the token's cap.
    for (let i = 0; i < 100; i += 50) {
      const batch = Array.from({ length: 50 }, () => attacker.sdk(sdkBody('flood-app-2', randomUUID(), { [key]: { NEW: 1, LEGACY: 0 } })));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(202);
    }
    // Features fetches with random ids: the token is full, nothing more is recorded, the toggles are served.
    for (let i = 0; i < 20; i++) expect((await attacker.features('flood-app-3', randomUUID())).status).toBe(200);
    // An honest fleet with its own token.
    for (let i = 0; i < 30; i++) expect((await honest.sdk(sdkBody('fleet-app', `pod-${i}`, { [key]: { NEW: 1, LEGACY: 1 } }))).status).toBe(202);
    await ingest().flush();

    expect(await instancesOf('flood-app')).toBe(caps.perApp);
    expect(await instancesOf('flood-app-2')).toBe(caps.perToken - caps.perApp);
    expect(await instancesOf('flood-app-3')).toBe(0);
    expect(await instancesOf('fleet-app')).toBe(30);
    expect((await readTraffic(t.admin, key)).traffic.byApp).toEqual([
      { appName: 'fleet-app', new: 30, legacy: 30 },
      { appName: 'flood-app-2', new: caps.perToken - caps.perApp, legacy: 0 },
    ]);

    const m = await scrape(t);
    expect(refused(m, 'unleash_register', 'instance_limit')).toBe(200 - caps.perApp);
    expect(refused(m, 'sdk_metrics', 'instance_limit')).toBe(100 - (caps.perToken - caps.perApp));
    expect(refused(m, 'unleash_served', 'instance_limit')).toBe(20);
    // Instances heard before are still taken (here: a flood id that got in).
    const [admitted] = await t.dataSource.query<{ instance_id: string }[]>("SELECT instance_id FROM sdk_instances WHERE app_name = 'flood-app' LIMIT 1");
    expect((await attacker.register('flood-app', admitted!.instance_id)).status).toBe(202);
    expect(refused(await scrape(t), 'unleash_register', 'instance_limit')).toBe(200 - caps.perApp);
  });

  it('bounds the buffer cells of one app and of one token; the other token’s report in the same flush is counted', async () => {
    const attacker = reporter(t, await t.tokenFor('sdk', 'cell-hog'));
    const honest = reporter(t, await t.tokenFor('sdk', 'cell-modest'));
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push(uniqueKey('hostile.cells'));
    for (const key of keys) await createSlice(t.admin, { key });
    await sliceServed(t.app, keys.at(-1)!);
    const both = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, { NEW: 1, LEGACY: 1 }]));
    const before = ingest().stats();

    // 24 cells for one app: over its 20.
    expect((await attacker.sdk(sdkBody('hog-app', 'pod-1', both(keys)))).status).toBe(202);
    // 16 + 16 cells in two apps: the second goes over the token's 30.
    expect((await attacker.sdk(sdkBody('hog-app-a', 'pod-1', both(keys.slice(0, 8))))).status).toBe(202);
    expect((await attacker.sdk(sdkBody('hog-app-b', 'pod-1', both(keys.slice(0, 8))))).status).toBe(202);
    expect((await honest.sdk(sdkBody('modest-app', 'pod-1', both(keys.slice(0, 10))))).status).toBe(202);
    await ingest().flush();

    const after = ingest().stats();
    expect(after.refused.sdk_metrics.cell_limit - before.refused.sdk_metrics.cell_limit).toBe(2);
    expect(after.droppedDecisions - before.droppedDecisions).toBe(24 + 16);
    const apps: { app_name: string }[] = await t.dataSource.query('SELECT DISTINCT app_name FROM traffic_buckets WHERE slice_key = ANY($1::text[]) ORDER BY app_name', [keys]);
    expect(apps.map((a) => a.app_name)).toEqual(['hog-app-a', 'modest-app']);
    expect(refused(await scrape(t), 'sdk_metrics', 'cell_limit')).toBe(after.refused.sdk_metrics.cell_limit);
  });
});
