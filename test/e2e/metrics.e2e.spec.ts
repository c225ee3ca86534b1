import { ConfigError, loadConfig } from '../../src/config/env.js';
import { HistoryAction } from '../../src/history/history-action.js';
import { MAX_OPERATION_NAMES } from '../../src/metrics/graphql-metrics.js';
import { ROUTES } from '../../src/metrics/http-metrics.js';
import { REFUSAL_REASONS, TRAFFIC_SOURCES } from '../../src/traffic/traffic-ingest.service.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { type EventStream, openEventStream } from '../utils/event-stream.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { type Exposition, parseExposition } from '../utils/prometheus.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Every metric of ours, with its type: what docs/metrics.md documents. */
const METRICS: Record<string, string> = {
  switchyard_http_requests_total: 'counter',
  switchyard_http_request_duration_seconds: 'histogram',
  switchyard_graphql_operations_total: 'counter',
  switchyard_graphql_operation_duration_seconds: 'histogram',
  switchyard_sdk_streams_opened_total: 'counter',
  switchyard_sdk_streams_open: 'gauge',
  switchyard_snapshot_revision: 'gauge',
  switchyard_history_appends_total: 'counter',
  switchyard_rollbacks_total: 'counter',
  switchyard_db_pool_connections: 'gauge',
  switchyard_db_pool_idle_connections: 'gauge',
  switchyard_db_pool_waiting_requests: 'gauge',
  switchyard_db_pool_max_connections: 'gauge',
  switchyard_traffic_reports_total: 'counter',
  switchyard_traffic_flushes_total: 'counter',
  switchyard_traffic_dropped_decisions_total: 'counter',
  switchyard_traffic_refused_total: 'counter',
  switchyard_traffic_unknown_slices_total: 'counter',
  switchyard_traffic_rejected_rows_total: 'counter',
  switchyard_outcome_calls_total: 'counter',
  switchyard_outcome_failures_total: 'counter',
  switchyard_outcome_duration_seconds: 'histogram',
};

const REQUESTS = 'switchyard_http_requests_total';
const REQUEST_COUNT = 'switchyard_http_request_duration_seconds_count';
const OPERATIONS = 'switchyard_graphql_operations_total';
const OPERATION_COUNT = 'switchyard_graphql_operation_duration_seconds_count';
const APPENDS = 'switchyard_history_appends_total';
const ROLLBACKS = 'switchyard_rollbacks_total';

const ROLLBACK =
  'mutation RollbackForMetrics($key: String!, $reason: String!, $idempotencyKey: String) { rollback(key: $key, reason: $reason, idempotencyKey: $idempotencyKey) { state } }';
const ROLLBACK_ALL = 'mutation RollbackAllForMetrics($tag: String!) { rollbackAll(reason: "metrics test", tag: $tag) { count } }';

async function scrapeOf(baseUrl: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${baseUrl}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
  return parseExposition(await res.text());
}

/** Counter and histogram-count changes between two scrapes, series by series. */
function deltaOf(before: Exposition, after: Exposition) {
  return (name: string, labels: Record<string, string>) => after.count(name, labels) - before.count(name, labels);
}

describe('GET /metrics (Prometheus)', () => {
  let t: TestApp;
  let sdkToken: string;
  let viewerToken: string;
  const streams: EventStream[] = [];
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '200' });
    sdkToken = await t.tokenFor('sdk');
    viewerToken = await t.tokenFor('viewer');
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = () => scrapeOf(t.baseUrl);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.baseUrl}${path}`, { headers });
  const sdkGet = (path: string, headers: Record<string, string> = {}) => get(path, { authorization: `Bearer ${sdkToken}`, ...headers });

  async function scrapeUntil(accept: (m: Exposition) => boolean, what: string): Promise<Exposition> {
    for (let i = 0; i < 200; i++) {
      const m = await scrape();
      if (accept(m)) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`metrics never showed ${what}`);
  }

  it('serves the text format with its content type: every metric of ours with HELP and TYPE, and the process metrics', async () => {
    const m = await scrape();
    const ours = [...m.types.keys()].filter((name) => name.startsWith('switchyard_')).sort();
    expect(ours).toEqual(Object.keys(METRICS).sort());
    for (const [name, type] of Object.entries(METRICS)) {
      expect([name, m.types.get(name)]).toEqual([name, type]);
      expect(m.help.get(name)?.length).toBeGreaterThan(20);
      // Prometheus naming: counters end in _total, histograms measure seconds, no unit-less durations.
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(m.types.has(name)).toBe(true);
    }
    // Counters with a closed set of labels exist from the start, at 0, so rate() works from the first change.
    for (const action of Object.values(HistoryAction)) expect(m.value(APPENDS, { action })).toBeDefined();
    for (const kind of ['single', 'all']) expect(m.value(ROLLBACKS, { kind })).toBeDefined();
    for (const outcome of ['accepted', 'dropped']) expect(m.value('switchyard_traffic_reports_total', { outcome })).toBeDefined();
    for (const outcome of ['written', 'failed']) expect(m.value('switchyard_traffic_flushes_total', { outcome })).toBeDefined();
    for (const source of TRAFFIC_SOURCES) for (const reason of REFUSAL_REASONS) expect(m.value('switchyard_traffic_refused_total', { source, reason })).toBe(0);
    for (const protocol of ['switchyard', 'unleash']) {
      expect(m.value('switchyard_sdk_streams_opened_total', { protocol })).toBe(0);
      expect(m.value('switchyard_sdk_streams_open', { protocol })).toBe(0);
    }
  });

  it('counts GraphQL operations by name, type and outcome (the error code the client got), and times them', async () => {
    const key = uniqueKey('metrics.graphql');
    const CREATE = 'mutation CreateForMetrics($key: String!) { createSlice(key: $key) { key } }';
    const LIST = 'query SlicesForMetrics { slices(first: 1) { nodes { key } } }';
    const before = await scrape();

    await t.admin.ok(LIST);
    await t.admin.ok(LIST);
    await t.admin.ok(CREATE, { key });
    expect((await t.admin.error(CREATE, { key })).extensions?.code).toBe('CONFLICT');
    expect((await t.as(viewerToken).error(CREATE, { key: uniqueKey('metrics.forbidden') })).extensions?.code).toBe('FORBIDDEN');
    expect((await t.admin.error(ROLLBACK, { key, reason: ' ' })).extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.admin.error('query Unparsable { slices(')).extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await t.admin.error('query Invalid { noSuchField }')).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await t.as(null).error(LIST)).extensions?.code).toBe('UNAUTHENTICATED');
    await t.admin.ok('{ __typename }');
    const noQuery = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{}',
    });
    expect(noQuery.status).toBe(400);

    const after = await scrape();
    const delta = deltaOf(before, after);
    const expected: [string, string, string, number][] = [
      ['SlicesForMetrics', 'query', 'success', 2],
      ['CreateForMetrics', 'mutation', 'success', 1],
      ['CreateForMetrics', 'mutation', 'CONFLICT', 1],
      ['CreateForMetrics', 'mutation', 'FORBIDDEN', 1],
      ['RollbackForMetrics', 'mutation', 'BAD_USER_INPUT', 1],
      // Parsed but invalid: named and typed from the document; unparsable: neither is known.
      ['Invalid', 'query', 'GRAPHQL_VALIDATION_FAILED', 1],
      ['unknown', 'unknown', 'GRAPHQL_PARSE_FAILED', 1],
      ['anonymous', 'query', 'success', 1],
    ];
    for (const [operation, type, outcome, n] of expected) {
      const labels = { operation, type, outcome };
      expect([labels, delta(OPERATIONS, labels), delta(OPERATION_COUNT, labels)]).toEqual([labels, n, n]);
    }
    // Refused before Apollo starts on the operation (authentication is in the context function; a
    // request without a query is no GraphQL request): counted, not timed.
    for (const outcome of ['UNAUTHENTICATED', 'BAD_REQUEST']) {
      const refused = { operation: 'unknown', type: 'unknown', outcome };
      expect([refused, delta(OPERATIONS, refused), delta(OPERATION_COUNT, refused)]).toEqual([refused, 1, 0]);
    }
    // Nothing else moved.
    const total = (m: Exposition) => m.series(OPERATIONS).reduce((sum, s) => sum + s.value, 0);
    expect(total(after) - total(before)).toBe(expected.reduce((sum, [, , , n]) => sum + n, 0) + 2);

    const success = { operation: 'SlicesForMetrics', type: 'query', outcome: 'success' };
    expect(delta('switchyard_graphql_operation_duration_seconds_sum', success)).toBeGreaterThan(0);
    expect(delta('switchyard_graphql_operation_duration_seconds_bucket', { ...success, le: '+Inf' })).toBe(2);
    expect(delta('switchyard_graphql_operation_duration_seconds_bucket', { ...success, le: '10' })).toBe(2);
    // HTTP sees the same requests by status: 200 for all but the refused token and the request without a query.
    expect(delta(REQUESTS, { method: 'POST', route: '/graphql', status: '401' })).toBe(1);
    expect(delta(REQUESTS, { method: 'POST', route: '/graphql', status: '400' })).toBeGreaterThanOrEqual(1);
  });

  it('counts and times every HTTP request by method, route and status, SDK delivery (served before Express) included', async () => {
    const before = await scrape();
    const first = await sdkGet('/sdk/v1/snapshot');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect((await sdkGet('/sdk/v1/snapshot?client=metrics-test', { 'accept-encoding': 'gzip' })).status).toBe(200);
    expect((await sdkGet('/sdk/v1/snapshot', { 'if-none-match': etag })).status).toBe(304);
    expect((await get('/sdk/v1/snapshot')).status).toBe(401);
    expect((await get('/health/live')).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/api/client/features`, { headers: { authorization: sdkToken } })).status).toBe(200);
    const after = await scrape();
    const delta = deltaOf(before, after);

    const expected: [string, string, string, number][] = [
      ['GET', '/sdk/v1/snapshot', '200', 2],
      ['GET', '/sdk/v1/snapshot', '304', 1],
      ['GET', '/sdk/v1/snapshot', '401', 1],
      ['GET', '/health/live', '200', 1],
      ['GET', '/api/client/features', '200', 1],
      // The scrape before: each scrape is counted once it has been answered.
      ['GET', '/metrics', '200', 1],
    ];
    for (const [method, route, status, n] of expected) {
      const labels = { method, route, status };
      expect([labels, delta(REQUESTS, labels), delta(REQUEST_COUNT, labels)]).toEqual([labels, n, n]);
    }
    const total = (m: Exposition) => m.series(REQUESTS).reduce((sum, s) => sum + s.value, 0);
    expect(total(after) - total(before)).toBe(expected.reduce((sum, [, , , n]) => sum + n, 0));
    const snapshot = { method: 'GET', route: '/sdk/v1/snapshot', status: '200' };
    expect(delta('switchyard_http_request_duration_seconds_sum', snapshot)).toBeGreaterThan(0);
    expect(delta('switchyard_http_request_duration_seconds_bucket', { ...snapshot, le: '10' })).toBe(2);
  });

  it('counts streams when they open, shows those open, and never times them as requests', async () => {
    const before = await scrape();
    expect((await get('/sdk/v1/stream', { accept: 'text/event-stream' })).status).toBe(401);
    const sdk = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${sdkToken}` });
    streams.push(sdk);
    await sdk.next('snapshot');
    const unleash = await openEventStream(`${t.baseUrl}/api/client/streaming`, { authorization: sdkToken });
    streams.push(unleash);
    await unleash.next('unleash-connected');

    const open = await scrape();
    const delta = deltaOf(before, open);
    expect(open.value('switchyard_sdk_streams_open', { protocol: 'switchyard' })).toBe(1);
    expect(open.value('switchyard_sdk_streams_open', { protocol: 'unleash' })).toBe(1);
    expect(delta('switchyard_sdk_streams_opened_total', { protocol: 'switchyard' })).toBe(1);
    expect(delta('switchyard_sdk_streams_opened_total', { protocol: 'unleash' })).toBe(1);
    // Counted while still open, with the status they started with; the refused one too.
    expect(delta(REQUESTS, { method: 'GET', route: '/sdk/v1/stream', status: '200' })).toBe(1);
    expect(delta(REQUESTS, { method: 'GET', route: '/sdk/v1/stream', status: '401' })).toBe(1);
    expect(delta(REQUESTS, { method: 'GET', route: '/api/client/streaming', status: '200' })).toBe(1);

    sdk.close();
    unleash.close();
    const closed = await scrapeUntil(
      (m) => m.value('switchyard_sdk_streams_open', { protocol: 'switchyard' }) === 0 && m.value('switchyard_sdk_streams_open', { protocol: 'unleash' }) === 0,
      'the streams closed',
    );
    // Not counted a second time when they end, and never in the latency histogram.
    expect(deltaOf(open, closed)(REQUESTS, { method: 'GET', route: '/sdk/v1/stream', status: '200' })).toBe(0);
    expect(deltaOf(open, closed)(REQUESTS, { method: 'GET', route: '/api/client/streaming', status: '200' })).toBe(0);
    const timedRoutes = closed.labelValues(REQUEST_COUNT, 'route');
    expect(timedRoutes.has('/sdk/v1/stream')).toBe(false);
    expect(timedRoutes.has('/api/client/streaming')).toBe(false);
  });

  it('counts history appends and rollbacks once committed: single, rollbackAll per slice, never a no-op, a retry or a failed commit', async () => {
    const tag = uniqueKey('metrics-wave').replace(/[^a-z0-9.-]/g, '-');
    const slices = [];
    for (let i = 0; i < 4; i++) slices.push(await createSlice(t.admin, { key: uniqueKey('metrics.rollback'), tags: [tag] }));
    const before = await scrape();

    await t.admin.ok(ROLLBACK, { key: slices[0]!.key, reason: 'incident' });
    await t.admin.ok(ROLLBACK, { key: slices[0]!.key, reason: 'again: already on LEGACY, writes nothing' });
    await t.admin.ok(ROLLBACK, { key: slices[1]!.key, reason: 'incident', idempotencyKey: `metrics-${tag}` });
    await t.admin.ok(ROLLBACK, { key: slices[1]!.key, reason: 'incident', idempotencyKey: `metrics-${tag}` });
    expect((await t.admin.error(ROLLBACK, { key: uniqueKey('metrics.missing'), reason: 'no such slice' })).extensions?.code).toBe('NOT_FOUND');

    // A commit that fails after the history rows were written (a deferred check refuses at COMMIT): nothing counted.
    await t.dataSource.query(`
      CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.action = 'ROLLBACK_ALL' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NEW; END $$`);
    await t.dataSource.query(
      'CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON history DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit()',
    );
    try {
      expect((await t.admin.error(ROLLBACK_ALL, { tag })).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await t.dataSource.query('DROP TRIGGER test_refuse_commit ON history');
      await t.dataSource.query('DROP FUNCTION test_refuse_commit()');
    }
    const failed = await scrape();
    const failedDelta = deltaOf(before, failed);
    expect(failedDelta(ROLLBACKS, { kind: 'single' })).toBe(2);
    expect(failedDelta(ROLLBACKS, { kind: 'all' })).toBe(0);
    expect(failedDelta(APPENDS, { action: 'SLICE_ROLLED_BACK' })).toBe(2);
    expect(failedDelta(APPENDS, { action: 'ROLLBACK_ALL' })).toBe(0);

    expect((await t.admin.ok<{ rollbackAll: { count: number } }>(ROLLBACK_ALL, { tag })).rollbackAll.count).toBe(2);
    const after = await scrape();
    const delta = deltaOf(before, after);
    expect(delta(ROLLBACKS, { kind: 'single' })).toBe(2);
    expect(delta(ROLLBACKS, { kind: 'all' })).toBe(2);
    for (const action of Object.values(HistoryAction)) {
      const expected = action === HistoryAction.SLICE_ROLLED_BACK ? 4 : action === HistoryAction.ROLLBACK_ALL ? 1 : 0;
      expect([action, delta(APPENDS, { action })]).toEqual([action, expected]);
    }
  });

  it('shows the snapshot revision being served', async () => {
    await createSlice(t.admin, { key: uniqueKey('metrics.revision') });
    const rows: { r: string }[] = await t.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
    const head = Number(rows[0]!.r);
    const m = await scrapeUntil((x) => x.value('switchyard_snapshot_revision') === head, `revision ${head}`);
    expect(m.value('switchyard_snapshot_revision')).toBe(head);
    expect((await sdkGet('/sdk/v1/snapshot')).headers.get('etag')).toBe(`"${head}"`);
  });

  it('shows the database pool: connections in use, idle and queries waiting for one', async () => {
    const engine = t.database.url === null ? 'embedded' : 'postgresql';
    const idle = await scrape();
    const max = idle.value('switchyard_db_pool_max_connections', { engine });
    expect(max).toBe(engine === 'embedded' ? 1 : 10);
    expect(idle.value('switchyard_db_pool_connections', { engine })).toBeGreaterThanOrEqual(1);
    expect(idle.value('switchyard_db_pool_waiting_requests', { engine })).toBe(0);

    // Hold every connection of the pool in an open transaction, then queue one more query.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const held = Array.from({ length: max! }, () =>
      t.dataSource.transaction(async (tx) => {
        await tx.query('SELECT 1');
        holding++;
        await gate;
      }),
    );
    try {
      for (let i = 0; holding < max! && i < 400; i++) await new Promise((r) => setTimeout(r, 10));
      expect(holding).toBe(max);
      const queued = t.dataSource.query('SELECT 1');
      const busy = await scrapeUntil((m) => (m.value('switchyard_db_pool_waiting_requests', { engine }) ?? 0) >= 1, 'a query waiting');
      expect(busy.value('switchyard_db_pool_connections', { engine })).toBe(max);
      expect(busy.value('switchyard_db_pool_idle_connections', { engine })).toBe(0);
      release();
      await queued;
    } finally {
      release();
      await Promise.all(held);
    }
    // Background work (traffic flushes, SDK instance writes) may hold a connection for a moment at
    // any scrape, so wait for a scrape where the queue is empty and every connection is back idle.
    const settled = (m: Exposition): boolean =>
      m.value('switchyard_db_pool_waiting_requests', { engine }) === 0 &&
      m.value('switchyard_db_pool_idle_connections', { engine }) === m.value('switchyard_db_pool_connections', { engine });
    const after = await scrapeUntil(settled, 'the queue empty and every connection idle');
    expect(after.value('switchyard_db_pool_waiting_requests', { engine })).toBe(0);
    expect(after.value('switchyard_db_pool_idle_connections', { engine })).toBe(after.value('switchyard_db_pool_connections', { engine }));
  });

  it('names every route Express serves in the route label (a new endpoint must be added to ROUTES)', () => {
    const stack = (t.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path?: unknown } }[] } }).router.stack;
    const paths = stack.map((layer) => layer.route?.path).filter((path): path is string => typeof path === 'string');
    // Middleware registered for every path (request id) is a wildcard route, not an endpoint.
    const endpoints = [...new Set(paths.filter((path) => !/[*{:]/.test(path)))];
    expect(endpoints.length).toBeGreaterThan(3);
    expect(endpoints.filter((path) => !ROUTES.has(path))).toEqual([]);
  });

  // Last: it fills this app's table of operation names.
  it('keeps label values bounded whatever clients send: URLs, methods and operation names', async () => {
    const before = await scrape();
    const random = () => Math.random().toString(36).slice(2);
    const urls = [
      ...Array.from({ length: 40 }, () => `/${random()}/${random()}?q=${random()}`),
      `/sdk/v1/snapshot/${random()}`,
      `/graphql/${random()}`,
      '/SDK/V1/SNAPSHOT',
      `/health/live/../${random()}`,
      `/metrics/${random()}`,
    ];
    for (const url of urls) {
      for (const method of ['GET', 'POST', 'PROPFIND']) {
        const res = await fetch(`${t.baseUrl}${url}`, { method });
        await res.arrayBuffer();
      }
    }
    for (let i = 0; i < MAX_OPERATION_NAMES + 20; i++) {
      await t.admin.ok(`query Op${i}_${random()} { __typename }`);
    }
    const res = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: 'query {', operationName: 'not a "name"\n' }),
    });
    expect(res.status).toBe(400);
    const after = await scrape();

    expect([...after.labelValues(REQUESTS, 'route')].filter((route) => route !== 'other' && !ROUTES.has(route))).toEqual([]);
    expect([...after.labelValues(REQUESTS, 'method')].sort()).toEqual(expect.arrayContaining(['other']));
    for (const method of after.labelValues(REQUESTS, 'method')) expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other']).toContain(method);
    for (const status of after.labelValues(REQUESTS, 'status')) expect(status).toMatch(/^([1-5]\d\d|aborted)$/);
    // Every one of them under route="other" (whatever answered it: /graphql/x reaches Apollo, most get 404).
    const other = (m: Exposition) =>
      m
        .series(REQUESTS)
        .filter((s) => s.labels.route === 'other')
        .reduce((sum, s) => sum + s.value, 0);
    expect(other(after) - other(before)).toBe(urls.length * 3);
    expect(deltaOf(before, after)(REQUESTS, { method: 'other', route: 'other', status: '404' })).toBeGreaterThanOrEqual(urls.length - 1);
    // A handful of new series at most (method x status), however many URLs.
    expect(after.series(REQUESTS).length - before.series(REQUESTS).length).toBeLessThanOrEqual(6);

    // Runs of slashes are merged before routing and labelling alike (request-path.ts): `//metrics` is /metrics.
    const merged = await fetch(`${t.baseUrl}//metrics`);
    expect(merged.status).toBe(200);
    await merged.arrayBuffer();
    expect(deltaOf(after, await scrape())(REQUESTS, { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);

    const names = after.labelValues(OPERATIONS, 'operation');
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 3); // + anonymous, other, unknown
    expect(names.has('not a "name"\n')).toBe(false);
    expect(deltaOf(before, after)(OPERATIONS, { operation: 'other', type: 'query', outcome: 'success' })).toBeGreaterThanOrEqual(20);
    expect(deltaOf(before, after)(OPERATIONS, { operation: 'other', type: 'unknown', outcome: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
  });
});

describe('METRICS_TOKEN', () => {
  const METRICS_TOKEN = 'sy_metrics_scrape_token_0123456789';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when set, /metrics needs exactly that bearer token (not an API token), refused with the usual error body', async () => {
    for (const authorization of [null, 'Bearer sy_metrics_scrape_token_0123456788', `Bearer ${ADMIN_TOKEN}`, METRICS_TOKEN, `Basic ${METRICS_TOKEN}`]) {
      const res = await fetch(`${t.baseUrl}/metrics`, { headers: authorization === null ? {} : { authorization } });
      expect([authorization, res.status]).toEqual([authorization, 401]);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string; errorCode: string } }[] };
      expect(body.errors[0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', errorCode: 'UNAUTHENTICATED' });
    }
    const m = await scrapeOf(t.baseUrl, { authorization: `Bearer ${METRICS_TOKEN}` });
    // The refusals are counted like any request.
    expect(m.value(REQUESTS, { method: 'GET', route: '/metrics', status: '401' })).toBe(5);
  });

  it('is validated at start-up like the rest of the configuration', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'too-short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'has a space in it 0123456789' })).toThrow(ConfigError);
    expect(loadConfig({ METRICS_TOKEN: '  ' }).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: ` ${METRICS_TOKEN} ` }).metricsToken).toBe(METRICS_TOKEN);
    expect(loadConfig({}).metricsToken).toBeNull();
  });
});
