import { get as httpGet } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { type EventStream, openEventStream } from '../utils/event-stream.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';
import { sliceServed } from '../utils/traffic.js';

interface Feature {
  name: string;
  enabled: boolean;
  description?: string;
  strategies: { name: string; constraints: { contextName: string; operator: string; inverted: boolean; caseInsensitive: boolean }[]; parameters: Record<string, string> }[];
}

/** What unleash-client 6.12 declares (repository/index.js SUPPORTED_SPEC_VERSION): the newest level. */
const CURRENT_SDK = { 'unleash-client-spec': '5.2.0' };
/** The revision an Unleash features ETag (`"<revision>;spec=<level>"`) is for. */
const revisionOf = (etag: string): number => Number(/^"(\d+);spec=[^"]+"$/.exec(etag)![1]);
interface Delta {
  events: ({ type: 'hydration'; eventId: number; features: Feature[]; segments: unknown[] } | { type: 'feature-updated'; eventId: number; feature: Feature })[];
}

/** The Unleash client protocol over raw HTTP: formats, auth, caching, validation, stream resumption. */
describe('Unleash client API (/api/client/*)', () => {
  let t: TestApp;
  let sdkToken: string;
  const streams: EventStream[] = [];

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '200' });
    sdkToken = await t.tokenFor('sdk');
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}, authorization: string | null = sdkToken) =>
    fetch(`${t.baseUrl}${path}`, { headers: { ...(authorization !== null ? { authorization } : {}), ...headers } });
  const post = (path: string, body: unknown, authorization = sdkToken) =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'unleash-sdk': 'unleash-go-sdk:5.0.0' },
      body: JSON.stringify(body),
    });
  const errorOf = async (res: Response) => ((await res.json()) as { errors: { extensions: { code: string; field?: string } }[] }).errors[0]!.extensions;

  async function headRevision(): Promise<number> {
    const rows: { r: string }[] = await t.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
    return Number(rows[0]!.r ?? 0);
  }

  /** GET /api/client/features once the service serves the head revision (as the current Node SDK unless `headers` say otherwise). */
  async function features(
    headers: Record<string, string> = CURRENT_SDK,
  ): Promise<{ etag: string; body: { version: number; features: Feature[]; query: Record<string, unknown> } }> {
    const head = await headRevision();
    for (let i = 0; i < 200; i++) {
      const res = await get('/api/client/features', headers);
      const etag = res.headers.get('etag')!;
      if (revisionOf(etag) >= head) return { etag, body: (await res.json()) as never };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`features never reached revision ${head}`);
  }

  async function stream(headers: Record<string, string> = CURRENT_SDK, path = '/api/client/streaming'): Promise<EventStream> {
    const s = await openEventStream(`${t.baseUrl}${path}`, { authorization: sdkToken, ...headers });
    streams.push(s);
    return s;
  }

  describe('authentication', () => {
    it('takes the sdk token as official SDKs send it (no scheme) and with Bearer; nothing else', async () => {
      expect((await get('/api/client/features')).status).toBe(200);
      expect((await get('/api/client/features', {}, `Bearer ${sdkToken}`)).status).toBe(200);
      const none = await get('/api/client/features', {}, null);
      expect(none.status).toBe(401);
      expect((await errorOf(none)).code).toBe('UNAUTHENTICATED');
      expect((await get('/api/client/features', {}, 'sy_not_a_real_token_0123456789abcdef')).status).toBe(401);
      expect((await get('/api/client/features', {}, `Basic ${Buffer.from('a:b').toString('base64')}`)).status).toBe(401);
      expect((await post('/api/client/metrics', {}, 'sy_not_a_real_token_0123456789abcdef')).status).toBe(401);
      // Only these routes take a bare token.
      expect((await get('/sdk/v1/snapshot', {}, sdkToken)).status).toBe(401);
    });
  });

  describe('GET /api/client/features', () => {
    it('serves every slice as a toggle, with the snapshot revision and client level as ETag and 304 for If-None-Match', async () => {
      const key = uniqueKey('uapi.pct');
      await createSlice(t.admin, { key, percent: 37, stickinessAttribute: 'accountId' });
      const { etag, body } = await features();
      expect(etag).toMatch(/;spec=5\.1\.5"$/);
      expect(body.version).toBe(2);
      expect(body.query).toEqual({ inlineSegmentConstraints: true });
      expect(body.features.find((f) => f.name === key)).toEqual({
        name: key,
        type: 'release',
        project: 'default',
        enabled: true,
        stale: false,
        impressionData: false,
        strategies: [{ name: 'flexibleRollout', constraints: [], parameters: { rollout: '37', stickiness: 'accountId', groupId: key } }],
        variants: [],
      });
      expect((await get('/sdk/v1/snapshot', {}, `Bearer ${sdkToken}`)).headers.get('etag')).toBe(`"${revisionOf(etag)}"`);

      const notModified = await get('/api/client/features', { ...CURRENT_SDK, 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('vary')).toBe('unleash-client-spec, accept-encoding');
      expect(await notModified.text()).toBe('');
      expect((await get('/api/client/features', { ...CURRENT_SDK, 'if-none-match': '"1;spec=5.1.5"' })).status).toBe(200);
      // The same revision for another client level is another body.
      const oldest = await get('/api/client/features', { 'if-none-match': etag });
      expect(oldest.status).toBe(200);
      expect(oldest.headers.get('etag')).toBe(`"${revisionOf(etag)};spec=none"`);
    });

    it('compresses as the SDK snapshot does, once per revision and level', async () => {
      await createSlice(t.admin, { key: uniqueKey('uapi.gzip'), percent: 5 });
      const { body } = await features();
      const res = await get('/api/client/features', { ...CURRENT_SDK, 'accept-encoding': 'gzip, deflate' });
      expect(res.headers.get('content-encoding')).toBe('gzip');
      // fetch decodes it: the same document as uncompressed.
      expect(await res.json()).toEqual(body);
      // And on the wire, gzip (fetch hides the encoding).
      const raw = await new Promise<Buffer>((resolve, reject) => {
        httpGet(`${t.baseUrl}/api/client/features`, { headers: { authorization: sdkToken, 'accept-encoding': 'gzip', ...CURRENT_SDK } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      expect(JSON.parse(gunzipSync(raw).toString('utf8'))).toEqual(body);
    });

    it('serves each SDK only what its declared client specification evaluates exactly, else the conservative form, saying why', async () => {
      const staff = uniqueKey('uapi.staff');
      const salaryRun = uniqueKey('uapi.salary-run');
      await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@corp.example'], caseInsensitive: true }]);
      await createSegment(t.admin, salaryRun, [{ attribute: 'accountId', operator: 'IN', values: ['acct-1', 'acct-2', 'acct-3'] }]);
      const staffExcluded = uniqueKey('uapi.no-staff');
      const salaryExcluded = uniqueKey('uapi.no-salary');
      await createSlice(t.admin, { key: staffExcluded, percent: 100, targeting: { include: [], exclude: [staff], rules: [] } });
      await createSlice(t.admin, { key: salaryExcluded, percent: 100, targeting: { include: [], exclude: [salaryRun], rules: [] } });

      const current = (await features()).body.features;
      const oldest = (await features({})).body.features;
      const at = (list: Feature[], key: string) => list.find((f) => f.name === key)!;
      // The current SDK: the exclusion as an inverted constraint, exact.
      expect(at(current, staffExcluded).strategies[0]!.constraints[0]).toMatchObject({ operator: 'STR_ENDS_WITH', inverted: true, caseInsensitive: true });
      expect(at(current, staffExcluded).description).toBeUndefined();
      // No header: it cannot evaluate STR_ENDS_WITH, so the slice is off for it, and says why.
      expect(at(oldest, staffExcluded)).toMatchObject({ enabled: false, strategies: [] });
      expect(at(oldest, staffExcluded).description).toMatch(/^Conservative form for Unleash SDKs.*client specification 4\.1\.0/);
      // An account list: NOT_IN, which it evaluates (conservatively: a subject without accountId).
      expect(at(oldest, salaryExcluded).strategies).toEqual([
        {
          name: 'default',
          constraints: [{ contextName: 'accountId', operator: 'NOT_IN', values: ['acct-1', 'acct-2', 'acct-3'], inverted: false, caseInsensitive: false }],
          parameters: {},
        },
      ]);
      // Nothing the oldest SDKs cannot read, anywhere.
      for (const f of oldest) {
        for (const s of f.strategies)
          for (const x of s.constraints) expect([f.name, x.operator, x.inverted, x.caseInsensitive]).toEqual([f.name, expect.stringMatching(/^(NOT_)?IN$/), false, false]);
      }
      // An invalid header is served like none (the Unleash server would answer 400, and the SDK stop).
      expect((await get('/api/client/features', { 'unleash-client-spec': 'v5.2.0' })).headers.get('etag')).toMatch(/;spec=none"$/);
      // Streams too: each gets the form of the client specification it connected with.
      const hydration = async (headers: Record<string, string>) => {
        const s = await stream(headers);
        return ((JSON.parse((await s.next('unleash-connected')).data) as Delta).events[0] as { features: Feature[] }).features;
      };
      expect(await hydration({})).toEqual(oldest);
      expect(await hydration(CURRENT_SDK)).toEqual(current);
    });

    it('serves /api//client/features (a base URL with a trailing slash) like /api/client/features', async () => {
      await createSlice(t.admin, { key: uniqueKey('uapi.slashes'), percent: 20 });
      const { etag, body } = await features();
      for (const path of ['/api//client/features', '//api/client//features', '/api//client/features?namePrefix=']) {
        const res = await get(path, CURRENT_SDK);
        expect([path, res.status, res.headers.get('etag')]).toEqual([path, 200, etag]);
        expect(await res.json()).toEqual(body);
      }
      const appName = uniqueKey('uapi-slash-app');
      const registered = await fetch(`${t.baseUrl}/api//client/register`, {
        method: 'POST',
        headers: { authorization: sdkToken, 'content-type': 'application/json' },
        body: JSON.stringify({ appName, instanceId: 'i-1', strategies: [], started: new Date().toISOString(), interval: 60000 }),
      });
      expect(registered.status).toBe(202);
      const s = await stream({}, '/api//client/streaming');
      expect((await s.next('unleash-connected')).id).toBe(String(revisionOf(etag)));
    });

    it('filters by namePrefix as Unleash does', async () => {
      const prefix = uniqueKey('uapi.prefix');
      await createSlice(t.admin, { key: `${prefix}.a`, percent: 100 });
      await createSlice(t.admin, { key: uniqueKey('uapi.other'), percent: 100 });
      await features();
      const res = await get(`/api/client/features?namePrefix=${encodeURIComponent(prefix)}`);
      const body = (await res.json()) as { features: Feature[]; query: Record<string, unknown> };
      expect(body.features.map((f) => f.name)).toEqual([`${prefix}.a`]);
      expect(body.query).toEqual({ inlineSegmentConstraints: true, namePrefix: prefix });
    });

    it('serves the conservative form of what Unleash cannot express, saying why', async () => {
      const key = uniqueKey('uapi.keyword');
      // "default" is a stickiness keyword in Unleash (userId or sessionId or random), not an attribute.
      await createSlice(t.admin, { key, percent: 50, stickinessAttribute: 'default' });
      const toggle = (await features()).body.features.find((f) => f.name === key)!;
      expect(toggle.enabled).toBe(false);
      expect(toggle.strategies).toEqual([]);
      expect(toggle.description).toMatch(/^Conservative form for Unleash SDKs.*stickiness keyword/);
    });
  });

  /** What the service knows of an Unleash SDK instance (the traffic tables, docs/traffic.md), once buffered reports are written. */
  async function instance(appName: string, instanceId: string) {
    await t.app.get(TrafficIngestService).flush();
    const rows: { sdk_name: string | null; sdk_version: string | null; revision: number | null; last_synced_at: Date | null; client_spec: string | null }[] =
      await t.dataSource.query(
        "SELECT sdk_name, sdk_version, revision::int AS revision, last_synced_at, client_spec FROM sdk_instances WHERE protocol = 'UNLEASH' AND app_name = $1 AND instance_id = $2",
        [appName, instanceId],
      );
    return rows[0];
  }

  describe('POST /api/client/register and /api/client/metrics', () => {
    it('accepts what the SDKs send (202) and counts it per slice for the app and instance', async () => {
      const appName = uniqueKey('uapi-app');
      const key = uniqueKey('uapi.counted');
      await createSlice(t.admin, { key, percent: 30 });
      await sliceServed(t.app, key);
      const registration = {
        appName,
        instanceId: 'pod-1',
        sdkVersion: 'unleash-go-sdk:5.0.0',
        strategies: ['default', 'flexibleRollout'],
        started: new Date().toISOString(),
        interval: 60000,
        platformName: 'go',
        yggdrasilVersion: null,
      };
      expect((await post('/api/client/register', registration)).status).toBe(202);
      expect(await instance(appName, 'pod-1')).toMatchObject({ sdk_name: 'unleash-go-sdk', sdk_version: '5.0.0', revision: null });

      const start = new Date(Date.now() - 60_000).toISOString();
      const stop = new Date().toISOString();
      // Written out: an object literal cannot hold a "__proto__" key, but a toggle may be named so
      // (it cannot be a slice: skipped, not refused).
      const body = `{"appName":${JSON.stringify(appName)},"instanceId":"pod-1","specVersion":"5.2.0","bucket":{"start":"${start}","stop":"${stop}",
        "toggles":{${JSON.stringify(key)}:{"yes":3,"no":7,"variants":{}},"not.a.slice":{"yes":2,"no":2},"__proto__":{"yes":1,"no":0}}}}`;
      const res = await fetch(`${t.baseUrl}/api/client/metrics`, { method: 'POST', headers: { authorization: sdkToken, 'content-type': 'application/json' }, body });
      expect(res.status).toBe(202);
      await t.app.get(TrafficIngestService).flush();

      const { slice } = await t.admin.ok<{ slice: { traffic: { lastHour: unknown; byApp: unknown[] }; followers: unknown[] } }>(
        'query($key: String!) { slice(key: $key) { traffic { lastHour { new legacy } byApp { appName new legacy } } followers { appName instanceId protocol sdkName } } }',
        { key },
      );
      expect(slice.traffic.lastHour).toEqual({ new: 3, legacy: 7 });
      expect(slice.traffic.byApp).toEqual([{ appName, new: 3, legacy: 7 }]);
      expect(slice.followers).toEqual([{ appName, instanceId: 'pod-1', protocol: 'UNLEASH', sdkName: 'unleash-go-sdk' }]);
      const stored: { slice_key: string }[] = await t.dataSource.query('SELECT DISTINCT slice_key FROM traffic_buckets WHERE app_name = $1', [appName]);
      expect(stored).toEqual([{ slice_key: key }]);
    });

    it.each([
      ['register', '/api/client/register', { instanceId: 'x' }, 'appName'],
      ['register', '/api/client/register', { appName: 'a', interval: -1 }, 'interval'],
      ['metrics', '/api/client/metrics', { appName: 'a' }, 'bucket'],
      ['metrics', '/api/client/metrics', { appName: 'a', bucket: { start: 'yesterday', stop: new Date().toISOString(), toggles: {} } }, 'bucket.start'],
      [
        'metrics',
        '/api/client/metrics',
        { appName: 'a', bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: { t: { yes: -1, no: 0 } } } },
        'bucket.toggles["t"]',
      ],
      ['metrics', '/api/client/metrics', [1, 2], 'body'],
    ])('refuses a malformed %s body with BAD_USER_INPUT naming the field (%s %j: %s)', async (_what, path, body, field) => {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('remembers which revision each SDK instance was last served, and the client specification it declared', async () => {
      const appName = uniqueKey('uapi-follower');
      await get('/api/client/features', { 'unleash-appname': appName, 'unleash-instanceid': 'i-1', 'unleash-sdk': 'unleash-java-sdk:10.0.0', 'unleash-client-spec': '5.1.9' });
      const record = (await instance(appName, 'i-1'))!;
      expect(record).toMatchObject({ sdk_name: 'unleash-java-sdk', sdk_version: '10.0.0', client_spec: '5.1.9' });
      expect(record.revision).toBeGreaterThan(0);
      expect(record.last_synced_at).not.toBeNull();
      // Served again without the header (or with one that is not a version): none declared.
      await get('/api/client/features', { 'unleash-appname': appName, 'unleash-instanceid': 'i-1', 'unleash-client-spec': 'v5.1.9' });
      expect((await instance(appName, 'i-1'))!.client_spec).toBeNull();
    });
  });

  describe('followers: which Unleash SDKs get a degraded form of which slice, and why', () => {
    it('shows the form each follower is served: EXACT for a current SDK, CONSERVATIVE or DISABLED for an old one, with the reason', async () => {
      const minors = uniqueKey('uapi.minors');
      await createSegment(t.admin, minors, [{ attribute: 'age', operator: 'NUM_LT', values: ['18'] }]);
      const key = uniqueKey('uapi.followed');
      await createSlice(t.admin, { key, percent: 40, targeting: { include: [], exclude: [minors], rules: [] } });
      await sliceServed(t.app, key);
      const appName = uniqueKey('uapi-fleet');
      const poll = (instanceId: string, headers: Record<string, string>) =>
        get('/api/client/features', { 'unleash-appname': appName, 'unleash-instanceid': instanceId, ...headers });
      const report = (instanceId: string) => {
        const stop = new Date().toISOString();
        const start = new Date(Date.now() - 10_000).toISOString();
        return post('/api/client/metrics', { appName, instanceId, bucket: { start, stop, toggles: { [key]: { yes: 1, no: 1, variants: {} } } } });
      };
      await features();
      expect((await poll('old', { 'unleash-sdk': 'unleash-client-go:3.2.0' })).status).toBe(200);
      expect((await poll('current', { ...CURRENT_SDK, 'unleash-sdk': 'unleash-client-node:6.12.1' })).status).toBe(200);
      for (const id of ['old', 'current']) expect((await report(id)).status).toBe(202);
      await t.app.get(TrafficIngestService).flush();

      const followersOf = async () =>
        (
          await t.admin.ok<{ slice: { followers: { instanceId: string; clientSpec: string | null; servedForm: string | null; degradedReason: string | null }[] } }>(
            'query($key: String!) { slice(key: $key) { followers { instanceId clientSpec servedForm degradedReason } } }',
            { key },
          )
        ).slice.followers;
      const followers = await followersOf();
      expect(followers.find((f) => f.instanceId === 'current')).toEqual({ instanceId: 'current', clientSpec: '5.2.0', servedForm: 'EXACT', degradedReason: null });
      const old = followers.find((f) => f.instanceId === 'old')!;
      // Everyone but minors at 40 %: the old SDK cannot evaluate NUM_LT, so it gets the slice off.
      expect(old).toMatchObject({ clientSpec: null, servedForm: 'DISABLED' });
      expect(old.degradedReason).toMatch(/constraints other than IN \/ NOT_IN need client specification 4\.1\.0/);

      // The old SDK is told too, in the toggle it holds.
      const toggle = (await features({})).body.features.find((f) => f.name === key)!;
      expect(toggle).toMatchObject({ enabled: false });
      expect(toggle.description).toMatch(/4\.1\.0/);
    });
  });

  describe('GET /api/client/streaming', () => {
    it('connects with a hydration, then sends only what changed, each event identified by its revision', async () => {
      const key = uniqueKey('uapi.stream');
      await createSlice(t.admin, { key, percent: 10 });
      const { etag } = await features();
      const appName = uniqueKey('uapi-streamer');
      const s = await stream({ ...CURRENT_SDK, 'unleash-appname': appName, 'unleash-instanceid': 'pod-9' });
      const connected = await s.next('unleash-connected');
      expect(connected.id).toBe(String(revisionOf(etag)));
      const hydration = JSON.parse(connected.data) as Delta;
      expect(hydration.events).toHaveLength(1);
      expect(hydration.events[0]).toMatchObject({ type: 'hydration', eventId: Number(connected.id), segments: [] });
      const served = (await features()).body.features;
      expect((hydration.events[0] as { features: Feature[] }).features).toEqual(served);

      await t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 20) { key } }', { key });
      const updated = await s.next('unleash-updated');
      expect(Number(updated.id)).toBeGreaterThan(Number(connected.id));
      const delta = JSON.parse(updated.data) as Delta;
      expect(delta.events).toEqual([{ type: 'feature-updated', eventId: Number(updated.id), feature: expect.objectContaining({ name: key, enabled: true }) }]);
      expect((delta.events[0] as { feature: Feature }).feature.strategies[0]!.parameters.rollout).toBe('20');
      // The service knows which revision this SDK instance holds.
      expect((await instance(appName, 'pod-9'))?.revision).toBe(Number(updated.id));
    });

    it('resumes by Last-Event-ID: nothing resent when current (even across revisions that changed no toggle), a hydration when behind', async () => {
      const key = uniqueKey('uapi.resume');
      await createSlice(t.admin, { key, percent: 10 });
      const { etag } = await features();
      const current = String(revisionOf(etag));
      // A segment no slice uses: a new revision, the same toggles.
      await createSegment(t.admin, uniqueKey('uapi.unused'), [{ attribute: 'plan', operator: 'IN', values: ['free'] }]);
      await features();

      const resumed = await stream({ ...CURRENT_SDK, 'last-event-id': current });
      await t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 30) { key } }', { key });
      // A hydration would have been written on connect, before anything else.
      const first = await resumed.next();
      expect(first.event).toBe('unleash-updated');
      expect((JSON.parse(first.data) as Delta).events.map((e) => e.type)).toEqual(['feature-updated']);

      const behind = await stream({ ...CURRENT_SDK, 'last-event-id': current });
      const event = await behind.next();
      expect(event.event).toBe('unleash-connected');
      expect((JSON.parse(event.data) as Delta).events[0]!.type).toBe('hydration');
    });

    it('keeps the connection alive with comments, which EventSource clients ignore', async () => {
      const controller = new AbortController();
      const res = await fetch(`${t.baseUrl}/api/client/streaming`, { headers: { authorization: sdkToken }, signal: controller.signal });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const deadline = Date.now() + 5_000;
      while (!text.includes(': heartbeat\n\n') && Date.now() < deadline) text += (await reader.read()).value ?? '';
      controller.abort();
      expect(text).toContain(': heartbeat\n\n');
      expect(text).toMatch(/^retry: \d+\n\n/);
    });

    it('refuses a stream without a valid token', async () => {
      const res = await get('/api/client/streaming', { accept: 'text/event-stream' }, null);
      expect(res.status).toBe(401);
    });

    it('a shutdown ends open Unleash streams cleanly and at once', async () => {
      const other = await createTestApp();
      const token = await other.tokenFor('sdk');
      const s = await openEventStream(`${other.baseUrl}/api/client/streaming`, { authorization: token });
      await s.next('unleash-connected');
      const ended = s.end();
      const started = Date.now();
      await other.close();
      expect(await ended).toBe('clean');
      // Left to Apollo's drain, the stream would hold the shutdown for its 10 s grace period.
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});
