import { InMemStorageProvider, Unleash } from 'unleash-client';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { TrafficRepository } from '../../src/traffic/traffic.repository.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { ManualClock } from '../utils/manual-clock.js';
import { parseExposition } from '../utils/prometheus.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';
import { takeDatabaseAway } from '../utils/outage.js';
import { readTraffic, readUntil, sdkReportBody, sliceServed, type TotalsView } from '../utils/traffic.js';

/**
 * Traffic seen by the services (docs/traffic.md), end to end: reports over real HTTP (raw, from the
 * real unleash-client), aggregated in the database, read back through GraphQL.
 * The SDK's own reporter against the service is in sdk-traffic.e2e.spec.ts.
 */
describe('traffic: reports in, GraphQL out', () => {
  let t: TestApp;
  let sdkToken: string;

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '100' });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ingest = () => t.app.get(TrafficIngestService);
  const traffic = (key: string, vars: { minutes?: number; within?: number } = {}) => readTraffic(t.admin, key, vars);

  function report(body: unknown, authorization: string | null = `Bearer ${sdkToken}`): Promise<Response> {
    return fetch(`${t.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  function body(appName: string, instanceId: string, slices: Record<string, { NEW: number; LEGACY: number }>, more: Record<string, unknown> = {}) {
    return sdkReportBody(appName, instanceId, slices, 10_000, more);
  }

  async function headRevision(): Promise<number> {
    const rows: { r: string }[] = await t.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
    return Number(rows[0]!.r ?? 0);
  }

  async function rowsOf(sql: string, params: unknown[]): Promise<number> {
    const rows: { n: string }[] = await t.dataSource.query(`SELECT count(*)::text AS n FROM (${sql}) x`, params);
    return Number(rows[0]!.n);
  }

  it('aggregates reports per slice, path and app; shows windows, minute buckets, apps and followers', async () => {
    const key = uniqueKey('traffic.raw');
    await createSlice(t.admin, { key, percent: 30 });
    await sliceServed(t.app, key);
    const revision = await headRevision();
    const synced = new Date(Date.now() - 2_000).toISOString();
    expect((await report(body('checkout-api', 'pod-1', { [key]: { NEW: 30, LEGACY: 70 } }, { revision, syncedAt: synced }))).status).toBe(202);
    expect((await report(body('checkout-api', 'pod-1', { [key]: { NEW: 3, LEGACY: 7 } }, { revision, syncedAt: synced }))).status).toBe(202);
    expect((await report(body('billing-api', 'pod-9', { [key]: { NEW: 0, LEGACY: 40 }, 'no.such.slice': { NEW: 5, LEGACY: 5 } }))).status).toBe(202);
    await ingest().flush();

    const view = await traffic(key);
    const expected = { new: 33, legacy: 117, total: 150, newShare: 33 / 150 };
    expect(view.traffic.last5Minutes).toEqual(expected);
    expect(view.traffic.lastHour).toEqual(expected);
    expect(view.traffic.last24Hours).toEqual(expected);
    expect(view.traffic.byApp).toEqual([
      { appName: 'billing-api', new: 0, legacy: 40 },
      { appName: 'checkout-api', new: 33, legacy: 77 },
    ]);
    // Five minutes, oldest first, one minute apart, ending with the current one; empty ones as zeros.
    const starts = view.traffic.buckets.map((b) => Date.parse(b.start));
    expect(starts).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(starts[i]! - starts[i - 1]!).toBe(60_000);
    expect(starts[4]! % 60_000).toBe(0);
    expect(Date.now() - starts[4]!).toBeLessThan(60_000 + 5_000);
    expect(view.traffic.buckets.reduce((sum, b) => sum + b.new + b.legacy, 0)).toBe(150);

    expect(view.followers).toEqual([
      expect.objectContaining({ appName: 'billing-api', instanceId: 'pod-9', protocol: 'SWITCHYARD', revision: null, lastSyncedAt: null, upToDate: false }),
      expect.objectContaining({ appName: 'checkout-api', instanceId: 'pod-1', sdkName: 'switchyard-node', sdkVersion: '0.1.0', revision, upToDate: true }),
    ]);
    // The SDK's sync time, re-expressed on the service's clock (about 2 s before the report arrived).
    const lag = Date.parse(view.followers[1]!.lastSyncedAt!);
    expect(Math.abs(Date.now() - 2_000 - lag)).toBeLessThan(3_000);
    expect(view.changedAtRevision).toBe(revision);

    // Counts of keys that are not slices are not kept.
    expect(await rowsOf('SELECT 1 FROM traffic_buckets WHERE slice_key = $1', ['no.such.slice'])).toBe(0);
    // Nothing for a slice without traffic.
    const quiet = uniqueKey('traffic.quiet');
    await createSlice(t.admin, { key: quiet });
    const none = await traffic(quiet);
    expect(none.traffic.last24Hours).toEqual({ new: 0, legacy: 0, total: 0, newShare: null });
    expect(none.traffic.buckets.every((b) => b.new === 0 && b.legacy === 0)).toBe(true);
    expect(none.traffic.byApp).toEqual([]);
    expect(none.followers).toEqual([]);
  });

  it('reads traffic for a whole page of slices in one query per field, with the READ permission', async () => {
    const keys = [uniqueKey('traffic.page'), uniqueKey('traffic.page')];
    const tag = uniqueKey('traffic-tag').replace(/\./g, '-');
    for (const key of keys) await t.admin.ok('mutation($key: String!, $tag: String!) { createSlice(key: $key, tags: [$tag]) { key } }', { key, tag });
    await sliceServed(t.app, keys[1]!);
    await report(body('page-app', 'pod-1', { [keys[0]!]: { NEW: 1, LEGACY: 2 }, [keys[1]!]: { NEW: 4, LEGACY: 0 } }));
    await ingest().flush();
    const viewer = t.as(await t.tokenFor('viewer'));
    // Counts the repository's reads (a pass-through wrapper: the real query runs).
    const repository = t.app.get(TrafficRepository);
    const reads = { windowTotals: 0, followers: 0 };
    // Unbound on purpose: applied to the repository below, and put back as they were.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
    const originals = { windowTotals: repository.windowTotals, followers: repository.followers };
    repository.windowTotals = (...args) => (reads.windowTotals++, originals.windowTotals.apply(repository, args));
    repository.followers = (...args) => (reads.followers++, originals.followers.apply(repository, args));
    const page = await viewer.ok<{ slices: { nodes: { key: string; traffic: { lastHour: TotalsView }; followers: { appName: string }[] }[] } }>(
      'query($tag: String!) { slices(tag: $tag) { nodes { key traffic { lastHour { new legacy } } followers(withinMinutes: 5) { appName } } } }',
      { tag },
    );
    expect(page.slices.nodes.map((n) => [n.key, n.traffic.lastHour, n.followers])).toEqual([
      [keys[0], { new: 1, legacy: 2 }, [{ appName: 'page-app' }]],
      [keys[1], { new: 4, legacy: 0 }, [{ appName: 'page-app' }]],
    ]);
    Object.assign(repository, originals);
    expect(reads).toEqual({ windowTotals: 1, followers: 1 });
  });

  it('changedAtRevision follows the changes that can change decisions: the slice’s own and its segments’ constraints', async () => {
    const staff = uniqueKey('traffic.staff');
    await createSegment(t.admin, staff, [{ attribute: 'userId', operator: 'IN', values: ['u1'] }]);
    const key = uniqueKey('traffic.changes');
    await createSlice(t.admin, { key, percent: 10, targeting: { include: [staff] } });
    const created = await headRevision();
    expect((await traffic(key)).changedAtRevision).toBe(created);

    // Description, owner, tags: no decision changes.
    await t.admin.ok('mutation($key: String!) { updateSlice(key: $key, description: "now with docs", tags: ["x"]) { key } }', { key });
    await t.admin.ok('mutation($key: String!) { updateSegment(key: $key, description: "who works here") { key } }', { key: staff });
    expect((await traffic(key)).changedAtRevision).toBe(created);

    await t.admin.ok('mutation($key: String!) { updateSegment(key: $key, constraints: [{ attribute: "userId", operator: IN, values: ["u1", "u2"] }]) { key } }', { key: staff });
    const segmentChanged = await headRevision();
    expect((await traffic(key)).changedAtRevision).toBe(segmentChanged);

    // A change of a segment the slice no longer uses does not count.
    await t.admin.ok('mutation($key: String!) { setTargeting(key: $key, reason: "test") { key } }', { key });
    const untargeted = await headRevision();
    await t.admin.ok('mutation($key: String!) { updateSegment(key: $key, constraints: [{ attribute: "userId", operator: IN, values: ["u3"] }]) { key } }', { key: staff });
    expect((await traffic(key)).changedAtRevision).toBe(untargeted);

    await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "e2e") { key } }', { key });
    expect((await traffic(key)).changedAtRevision).toBe(await headRevision());
  });

  describe('refuses bad reports with 400 and a code, writing nothing of them', () => {
    const appName = uniqueKey('bad-reporter');

    it.each([
      ['not JSON', '{"appName":', 'INVALID_INPUT', undefined],
      ['a list', [1, 2], 'INVALID_INPUT', 'body'],
      ['no instance id', { appName, bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), slices: {} } }, 'INVALID_INPUT', 'instanceId'],
      ['a negative count', () => body(appName, 'i-1', { 'a.slice': { NEW: -1, LEGACY: 0 } }), 'INVALID_INPUT', 'bucket.slices["a.slice"]'],
      ['a fractional count', () => body(appName, 'i-1', { 'a.slice': { NEW: 1.5, LEGACY: 0 } }), 'INVALID_INPUT', 'bucket.slices["a.slice"]'],
      ['an invalid key', () => body(appName, 'i-1', { 'Not A Key': { NEW: 1, LEGACY: 0 } }), 'INVALID_INPUT', 'bucket.slices["Not A Key"]'],
      [
        'stop before start',
        () => ({ ...body(appName, 'i-1', {}), bucket: { start: new Date().toISOString(), stop: '2020-01-01T00:00:00Z', slices: {} } }),
        'INVALID_INPUT',
        'bucket.stop',
      ],
      ['a revision as text', () => body(appName, 'i-1', {}, { revision: '42' }), 'INVALID_INPUT', 'revision'],
      [
        'too many slices',
        () => body(appName, 'i-1', Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`s${i}`, { NEW: 1, LEGACY: 0 }]))),
        'INVALID_INPUT',
        'bucket.slices',
      ],
    ])('%s', async (_what, payload, errorCode, field) => {
      const res = await report(typeof payload === 'function' ? payload() : payload);
      expect(res.status).toBe(400);
      const error = ((await res.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions;
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', errorCode });
      if (field !== undefined) expect(error.field).toBe(field);
    });

    it('a report with one bad entry among good ones: nothing of it is kept', async () => {
      const key = uniqueKey('traffic.partial');
      await createSlice(t.admin, { key });
      const res = await report(body(appName, 'i-2', { [key]: { NEW: 5, LEGACY: 5 }, [uniqueKey('other')]: { NEW: 1, LEGACY: -1 } }));
      expect(res.status).toBe(400);
      await ingest().flush();
      expect(await rowsOf('SELECT 1 FROM traffic_buckets WHERE slice_key = $1', [key])).toBe(0);
      expect(await rowsOf('SELECT 1 FROM sdk_instances WHERE app_name = $1', [appName])).toBe(0);
      expect((await traffic(key)).traffic.last24Hours.total).toBe(0);
    });

    it('refuses without a token (401) and without the Bearer scheme', async () => {
      const ok = body(appName, 'i-3', {});
      expect((await report(ok, null)).status).toBe(401);
      expect((await report(ok, sdkToken)).status).toBe(401);
      expect((await report(ok, 'Bearer sy_not_a_real_token_0123456789abcdef')).status).toBe(401);
    });
  });

  it('bounds the GraphQL windows', async () => {
    const key = uniqueKey('traffic.bounds');
    await createSlice(t.admin, { key });
    for (const [query, field] of [
      ['query($key: String!) { slice(key: $key) { traffic { buckets(minutes: 0) { start } } } }', 'minutes'],
      ['query($key: String!) { slice(key: $key) { traffic { byApp(minutes: 1441) { appName } } } }', 'minutes'],
      ['query($key: String!) { slice(key: $key) { followers(withinMinutes: 0) { appName } } }', 'withinMinutes'],
    ] as const) {
      const error = await t.admin.error(query, { key });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const full = await traffic(key, { minutes: 1440 });
    expect(full.traffic.buckets).toHaveLength(1440);
  });

  it('prunes what is older than the retention', async () => {
    const key = uniqueKey('traffic.old');
    await createSlice(t.admin, { key });
    const now = Date.now();
    const old = new Date(now - 8 * 24 * 3_600_000);
    const recent = new Date(Math.floor(now / 60_000) * 60_000);
    await t.dataSource.query(`INSERT INTO traffic_buckets (slice_key, app_name, path, bucket_start, count) VALUES ($1, 'old-app', 'NEW', $2, 5), ($1, 'old-app', 'NEW', $3, 7)`, [
      key,
      old,
      recent,
    ]);
    await t.dataSource.query(
      `INSERT INTO sdk_instances (protocol, app_name, instance_id, last_seen_at) VALUES ('SWITCHYARD', 'old-app', 'gone', $1), ('SWITCHYARD', 'old-app', 'here', $2)`,
      [old, recent],
    );
    await t.dataSource.query(`INSERT INTO traffic_followers (slice_key, protocol, app_name, instance_id, last_reported_at) VALUES ($1, 'SWITCHYARD', 'old-app', 'gone', $2)`, [
      key,
      old,
    ]);
    const deleted = await ingest().prune(now);
    expect(deleted).toMatchObject({ buckets: expect.any(Number), followers: expect.any(Number), instances: expect.any(Number) });
    expect(await rowsOf('SELECT 1 FROM traffic_buckets WHERE slice_key = $1', [key])).toBe(1);
    expect(await rowsOf("SELECT 1 FROM sdk_instances WHERE app_name = 'old-app'", [])).toBe(1);
    expect(await rowsOf('SELECT 1 FROM traffic_followers WHERE slice_key = $1', [key])).toBe(0);
    expect((await traffic(key)).traffic.last5Minutes.new).toBe(7);
  });

  it('counts the real unleash-client’s metrics under protocol UNLEASH, with the revision it was served', async () => {
    const key = uniqueKey('traffic.unleash');
    await createSlice(t.admin, { key, percent: 30 });
    const head = await headRevision();
    const problems: string[] = [];
    const client = new Unleash({
      url: `${t.baseUrl}/api/`,
      appName: 'unleash-traffic-e2e',
      instanceId: 'unleash-pod-1',
      customHeaders: { Authorization: sdkToken },
      refreshInterval: 200,
      metricsInterval: 200,
      disableMetrics: false,
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
    });
    client.on('error', (e: Error) => problems.push(`error: ${e.message}`));
    client.on('warn', (w: unknown) => problems.push(`warn: ${String(w)}`));
    try {
      await readUntil(() => client.getFeatureToggleDefinition(key) !== undefined, Boolean, 'the toggle in unleash-client');
      let yes = 0;
      const subjects = 2_000;
      for (let i = 0; i < subjects; i++) if (client.isEnabled(key, { userId: `user-${i}` })) yes++;
      expect(yes / subjects).toBeGreaterThan(0.25);
      expect(yes / subjects).toBeLessThan(0.35);

      // Each field is its own query, and a flush may land between them: wait until every one has it all.
      const view = await readUntil(
        () => traffic(key),
        (v) => v.traffic.last5Minutes.total >= subjects && v.traffic.byApp.reduce((n, a) => n + a.new + a.legacy, 0) >= subjects && v.followers.length > 0,
        'the metrics',
      );
      expect(view.traffic.last5Minutes).toEqual({ new: yes, legacy: subjects - yes, total: subjects, newShare: yes / subjects });
      expect(view.traffic.byApp).toEqual([{ appName: 'unleash-traffic-e2e', new: yes, legacy: subjects - yes }]);
      expect(view.followers).toEqual([
        expect.objectContaining({
          appName: 'unleash-traffic-e2e',
          instanceId: 'unleash-pod-1',
          protocol: 'UNLEASH',
          sdkName: 'unleash-node-sdk',
          sdkVersion: expect.stringMatching(/^6\./),
          upToDate: true,
          status: 'UP_TO_DATE',
          // It registered metricsInterval 200 ms: taken as 1 s at least.
          reportIntervalMs: 1_000,
        }),
      ]);
      expect(view.followers[0]!.revision).toBeGreaterThanOrEqual(head);
      expect(Date.now() - Date.parse(view.followers[0]!.lastSyncedAt!)).toBeLessThan(10_000);
    } finally {
      client.destroy();
    }
    expect(problems).toEqual([]);
  });

  // Last: it takes this file's database away.
  it('never fails a report because the database is down: 202, kept in memory, counted', async () => {
    const key = uniqueKey('traffic.outage');
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
    const send = () => report(body('outage-app', 'pod-1', { [key]: { NEW: 1, LEGACY: 1 } }));
    expect((await send()).status).toBe(202); // the token is verified (and cached) while the database is up
    const service = ingest();
    await service.flush();
    const before = service.stats();
    await takeDatabaseAway(t);
    for (let i = 0; i < 5; i++) expect((await send()).status).toBe(202);
    await service.flush();
    const after = service.stats();
    expect(after.acceptedReports).toBe(before.acceptedReports + 5);
    expect(after.failedFlushes).toBeGreaterThan(before.failedFlushes);
    expect(after.droppedDecisions).toBe(before.droppedDecisions);
    // The same counts on GET /metrics, which answers with the database down (the suite's timer
    // may fail one more flush between the reads: the scrape lies between the two stats()).
    const metrics = parseExposition(await (await fetch(`${t.baseUrl}/metrics`)).text());
    const later = service.stats();
    expect({
      accepted: metrics.value('switchyard_traffic_reports_total', { outcome: 'accepted' }),
      dropped: metrics.value('switchyard_traffic_reports_total', { outcome: 'dropped' }),
      written: metrics.value('switchyard_traffic_flushes_total', { outcome: 'written' }),
      droppedDecisions: metrics.value('switchyard_traffic_dropped_decisions_total'),
    }).toEqual({ accepted: after.acceptedReports, dropped: after.droppedReports, written: after.flushes, droppedDecisions: after.droppedDecisions });
    const failed = metrics.value('switchyard_traffic_flushes_total', { outcome: 'failed' })!;
    expect(failed).toBeGreaterThanOrEqual(after.failedFlushes);
    expect(failed).toBeLessThanOrEqual(later.failedFlushes);
  });
});

/**
 * Who is gone (docs/traffic.md, "Who follows"): an instance that said goodbye (`"final": true`,
 * sent by the SDK as it closes), or that was not heard from for three of its report intervals, is
 * GONE rather than BEHIND. The service's clock is moved by hand.
 */
describe('traffic: followers that are gone', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let sdkToken: string;
  beforeAll(async () => {
    t = await createTestApp({}, { clock });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (path: string, body: unknown, authorization: string) =>
    fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  async function report(instanceId: string, key: string, more: Record<string, unknown>): Promise<void> {
    expect((await post('/sdk/v1/metrics', sdkReportBody('payments-api', instanceId, { [key]: { NEW: 1, LEGACY: 1 } }, 10_000, more), `Bearer ${sdkToken}`)).status).toBe(202);
  }
  async function statuses(key: string): Promise<Record<string, { status: string; closedAt: string | null; reportIntervalMs: number; upToDate: boolean }>> {
    await t.app.get(TrafficIngestService).flush();
    const view = await readTraffic(t.admin, key);
    return Object.fromEntries(view.followers.map((f) => [`${f.protocol}:${f.instanceId}`, f]));
  }

  it('a goodbye makes an instance GONE at once; silence, after three of its report intervals (60 s unless it said); a word brings it back', async () => {
    const key = uniqueKey('traffic.gone');
    await createSlice(t.admin, { key, percent: 10 });
    await sliceServed(t.app, key);
    const { slice } = await t.admin.ok<{ slice: { changedAtRevision: number } }>('query($key: String!) { slice(key: $key) { changedAtRevision } }', { key });
    const current = slice.changedAtRevision;

    await report('pod-default', key, { revision: current });
    await report('pod-fast', key, { revision: current - 1, metricsIntervalMs: 10_000 });
    await report('pod-closing', key, { revision: current - 1 });
    await report('pod-closing', key, { revision: current - 1, final: true });
    // An Unleash SDK registers its metrics interval (5 s), then reports.
    const unleash = { 'unleash-appname': 'payments-api', 'unleash-instanceid': 'jvm-1' };
    const at = clock.now();
    expect(
      (
        await post(
          '/api/client/register',
          { appName: 'payments-api', instanceId: 'jvm-1', sdkVersion: 'unleash-client-java:9.2.0', strategies: [], started: at, interval: 5_000 },
          sdkToken,
        )
      ).status,
    ).toBeLessThan(300);
    const metrics = {
      appName: 'payments-api',
      instanceId: 'jvm-1',
      bucket: { start: new Date(at.getTime() - 5_000), stop: at, toggles: { [key]: { yes: 1, no: 3, variants: {} } } },
    };
    expect(
      (
        await fetch(`${t.baseUrl}/api/client/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: sdkToken, ...unleash },
          body: JSON.stringify(metrics),
        })
      ).status,
    ).toBeLessThan(300);

    let now = await statuses(key);
    expect(now['SWITCHYARD:pod-default']).toMatchObject({ status: 'UP_TO_DATE', closedAt: null, reportIntervalMs: 60_000 });
    expect(now['SWITCHYARD:pod-fast']).toMatchObject({ status: 'BEHIND', reportIntervalMs: 10_000 });
    // Closed before the change reached it: GONE, not BEHIND (upToDate still says what it held).
    expect(now['SWITCHYARD:pod-closing']).toMatchObject({ status: 'GONE', closedAt: clock.now().toISOString(), upToDate: false });
    // It was never served the features here, so it holds no revision known to the service.
    expect(now['UNLEASH:jvm-1']).toMatchObject({ status: 'BEHIND', reportIntervalMs: 5_000 });

    await clock.advance(15_001);
    now = await statuses(key);
    expect(now['UNLEASH:jvm-1']!.status).toBe('GONE');
    expect(now['SWITCHYARD:pod-fast']!.status).toBe('BEHIND');

    await clock.advance(15_000);
    now = await statuses(key);
    expect(now['SWITCHYARD:pod-fast']!.status).toBe('GONE');
    expect(now['SWITCHYARD:pod-default']!.status).toBe('UP_TO_DATE');

    await clock.advance(150_000); // 180.001 s since pod-default was heard
    now = await statuses(key);
    expect(now['SWITCHYARD:pod-default']!.status).toBe('GONE');

    // Heard from again (a process that came back, a client created again under the same id).
    await report('pod-default', key, { revision: current });
    await report('pod-closing', key, { revision: current });
    now = await statuses(key);
    expect(now['SWITCHYARD:pod-default']!.status).toBe('UP_TO_DATE');
    expect(now['SWITCHYARD:pod-closing']).toMatchObject({ status: 'UP_TO_DATE', closedAt: null });
  });
});
