import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { type EventStream, openEventStream } from '../utils/event-stream.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';
import { sliceServed } from '../utils/traffic.js';

interface Feature {
  name: string;
  enabled: boolean;
  description?: string;
  strategies: { name: string; constraints: unknown[]; parameters: Record<string, string> }[];
}
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
    const rows: { r: string }[] = await t.dataSource.query(
      "SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')",
    );
    return Number(rows[0]!.r ?? 0);
  }

  /** GET /api/client/features once the service serves the head revision. */
  async function features(): Promise<{ etag: string; body: { version: number; features: Feature[]; query: Record<string, unknown> } }> {
    const head = await headRevision();
    for (let i = 0; i < 200; i++) {
      const res = await get('/api/client/features');
      const etag = res.headers.get('etag')!;
      if (Number(JSON.parse(etag)) >= head) return { etag, body: (await res.json()) as never };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`features never reached revision ${head}`);
  }

  async function stream(headers: Record<string, string> = {}): Promise<EventStream> {
    const s = await openEventStream(`${t.baseUrl}/api/client/streaming`, { authorization: sdkToken, ...headers });
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
    it('serves every slice as a toggle, with the snapshot revision as ETag and 304 for If-None-Match', async () => {
      const key = uniqueKey('uapi.pct');
      await createSlice(t.admin, { key, percent: 37, stickinessAttribute: 'accountId' });
      const { etag, body } = await features();
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
      expect((await get('/sdk/v1/snapshot', {}, `Bearer ${sdkToken}`)).headers.get('etag')).toBe(etag);

      const notModified = await get('/api/client/features', { 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe('');
      expect((await get('/api/client/features', { 'if-none-match': '"1"' })).status).toBe(200);
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
    const rows: { sdk_name: string | null; sdk_version: string | null; revision: number | null; last_synced_at: Date | null }[] = await t.dataSource.query(
      "SELECT sdk_name, sdk_version, revision::int AS revision, last_synced_at FROM sdk_instances WHERE protocol = 'UNLEASH' AND app_name = $1 AND instance_id = $2",
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
      ['metrics', '/api/client/metrics', { appName: 'a', bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: { t: { yes: -1, no: 0 } } } }, 'bucket.toggles["t"]'],
      ['metrics', '/api/client/metrics', [1, 2], 'body'],
    ])('refuses a malformed %s body with BAD_USER_INPUT naming the field (%s %j: %s)', async (_what, path, body, field) => {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('remembers which revision each SDK instance was last served', async () => {
      const appName = uniqueKey('uapi-follower');
      await get('/api/client/features', { 'unleash-appname': appName, 'unleash-instanceid': 'i-1', 'unleash-sdk': 'unleash-java-sdk:10.0.0' });
      const record = (await instance(appName, 'i-1'))!;
      expect(record).toMatchObject({ sdk_name: 'unleash-java-sdk', sdk_version: '10.0.0' });
      expect(record.revision).toBeGreaterThan(0);
      expect(record.last_synced_at).not.toBeNull();
    });
  });

  describe('GET /api/client/streaming', () => {
    it('connects with a hydration, then sends only what changed, each event identified by its revision', async () => {
      const key = uniqueKey('uapi.stream');
      await createSlice(t.admin, { key, percent: 10 });
      const { etag } = await features();
      const appName = uniqueKey('uapi-streamer');
      const s = await stream({ 'unleash-appname': appName, 'unleash-instanceid': 'pod-9' });
      const connected = await s.next('unleash-connected');
      expect(connected.id).toBe(JSON.parse(etag).toString());
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
      const current = String(JSON.parse(etag));
      // A segment no slice uses: a new revision, the same toggles.
      await createSegment(t.admin, uniqueKey('uapi.unused'), [{ attribute: 'plan', operator: 'IN', values: ['free'] }]);
      await features();

      const resumed = await stream({ 'last-event-id': current });
      await t.admin.ok('mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 30) { key } }', { key });
      // A hydration would have been written on connect, before anything else.
      const first = await resumed.next();
      expect(first.event).toBe('unleash-updated');
      expect((JSON.parse(first.data) as Delta).events.map((e) => e.type)).toEqual(['feature-updated']);

      const behind = await stream({ 'last-event-id': current });
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
