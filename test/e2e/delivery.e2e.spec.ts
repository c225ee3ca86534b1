import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';
import { nextBesidesHeartbeats, openEventStream, type EventStream } from '../utils/event-stream.js';
import { patchSnapshot, type SnapshotDefinition, type SnapshotDelta } from '@switchyard/client-sdk/core';

interface Snapshot {
  revision: number;
  generatedAt: string;
  slices: { key: string; state: string; basisPoints: number; stickinessAttribute: string; targeting: unknown }[];
  segments: { key: string; constraints: unknown[] }[];
}

describe('delivery endpoints (GET /sdk/v1/snapshot, /sdk/v1/stream)', () => {
  let t: TestApp;
  let sdkToken: string;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '200' });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}, token: string | null = sdkToken) =>
    fetch(`${t.baseUrl}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

  /** Waits until the in-memory snapshot has caught up with the committed change. */
  async function snapshotAt(minRevision: number): Promise<Snapshot> {
    for (let i = 0; i < 100; i++) {
      const body = (await (await get('/sdk/v1/snapshot')).json()) as Snapshot;
      if (body.revision >= minRevision) return body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`snapshot never reached revision ${minRevision}`);
  }

  async function headRevision(): Promise<number> {
    const rows: { r: string }[] = await t.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
    return Number(rows[0]!.r ?? 0);
  }

  it('serves the whole evaluable configuration with its revision as ETag, and 304 for If-None-Match', async () => {
    const segment = uniqueKey('kenya');
    await createSegment(t.admin, segment, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    const key = uniqueKey('api.route');
    await createSlice(t.admin, { key, percent: 12.5, targeting: { include: [], exclude: [segment], rules: [] } });
    const snapshot = await snapshotAt(await headRevision());

    expect(snapshot.slices.find((s) => s.key === key)).toEqual({
      key,
      state: 'ACTIVE',
      basisPoints: 1250,
      stickinessAttribute: 'userId',
      targeting: { include: [], exclude: [segment], rules: [] },
    });
    expect(snapshot.segments.find((s) => s.key === segment)?.constraints).toHaveLength(1);

    const res = await get('/sdk/v1/snapshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${snapshot.revision}"`);
    const notModified = await get('/sdk/v1/snapshot', { 'if-none-match': `"${snapshot.revision}"` });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect((await get('/sdk/v1/snapshot', { 'if-none-match': '"1"' })).status).toBe(200);
  });

  it('compresses for clients that accept it (brotli, else gzip), same JSON, and echoes the request id', async () => {
    const plain = await (await get('/sdk/v1/snapshot')).text();
    for (const [accept, encoding, decode] of [
      ['gzip, deflate, br', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
      ['br;q=0, gzip;q=1', 'gzip', gunzipSync],
    ] as const) {
      const res = await rawGet(`${t.baseUrl}/sdk/v1/snapshot`, { authorization: `Bearer ${sdkToken}`, 'accept-encoding': accept, 'x-request-id': 'req-42' });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(encoding);
      expect(res.headers['x-request-id']).toBe('req-42');
      expect(res.body.length).toBeLessThan(Buffer.byteLength(plain));
      expect(decode(res.body).toString('utf8')).toBe(plain);
    }
    const identity = await rawGet(`${t.baseUrl}/sdk/v1/snapshot`, { authorization: `Bearer ${sdkToken}` });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.toString('utf8')).toBe(plain);
  });

  it('does not serve segments no slice uses', async () => {
    const unused = uniqueKey('unused');
    await createSegment(t.admin, unused, [{ attribute: 'plan', operator: 'IN', values: ['free'] }]);
    const snapshot = await snapshotAt(await headRevision());
    expect(snapshot.segments.map((s) => s.key)).not.toContain(unused);
  });

  it('refuses without a token (401) and with a role that may not read (none: every role may), never from the database', async () => {
    expect((await get('/sdk/v1/snapshot', {}, null)).status).toBe(401);
    expect((await get('/sdk/v1/snapshot', {}, 'sy_unknown_token_0123456789abcdef')).status).toBe(401);
    const viewer = await t.tokenFor('viewer');
    expect((await get('/sdk/v1/snapshot', {}, viewer)).status).toBe(200);
  });

  it('a token change does not move the revision (tokens are not configuration)', async () => {
    const before = await snapshotAt(await headRevision());
    await t.tokenFor('viewer');
    const after = (await (await get('/sdk/v1/snapshot')).json()) as Snapshot;
    expect(after.revision).toBe(before.revision);
  });

  describe('stream', () => {
    let stream: EventStream | null = null;
    afterEach(() => stream?.close());

    it('sends the current snapshot first, then one event per new revision, and heartbeats', async () => {
      const key = uniqueKey('streamed');
      await createSlice(t.admin, { key });
      const start = await snapshotAt(await headRevision());
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${sdkToken}` });
      const first = await stream.next('snapshot');
      expect(first.id).toBe(String(start.revision));
      expect((JSON.parse(first.data) as Snapshot).revision).toBe(start.revision);

      await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "stream test") { key } }', { key });
      const next = await stream.next('snapshot');
      const snapshot = JSON.parse(next.data) as Snapshot;
      expect(snapshot.revision).toBeGreaterThan(start.revision);
      expect(next.id).toBe(String(snapshot.revision));
      expect(snapshot.slices.find((s) => s.key === key)?.state).toBe('ROLLED_BACK');

      const beat = await stream.next('heartbeat');
      expect(JSON.parse(beat.data)).toEqual({ revision: snapshot.revision });
    });

    it('sends no snapshot first when Last-Event-ID is the current revision', async () => {
      const current = await snapshotAt(await headRevision());
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, {
        authorization: `Bearer ${sdkToken}`,
        'last-event-id': String(current.revision),
      });
      const event = await stream.next();
      expect(event.event).toBe('heartbeat');
    });

    it('with ?delta=1, sends each new revision as a delta on top of the one the stream holds', async () => {
      const key = uniqueKey('delta');
      await createSlice(t.admin, { key, percent: 40 });
      const start = await snapshotAt(await headRevision());
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?delta=1`, { authorization: `Bearer ${sdkToken}` });
      const first = await stream.next('snapshot');
      expect((JSON.parse(first.data) as Snapshot).revision).toBe(start.revision);

      await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "delta test") { key } }', { key });
      const event = await nextBesidesHeartbeats(stream);
      expect(event.event).toBe('delta');
      const delta = JSON.parse(event.data) as SnapshotDelta;
      const after = await snapshotAt(delta.revision);
      expect(event.id).toBe(String(after.revision));
      expect(delta).toEqual({
        revision: after.revision,
        baseRevision: start.revision,
        slices: [after.slices.find((s) => s.key === key)],
        removedSlices: [],
        segments: [],
        removedSegments: [],
      });
      expect(delta.slices[0]!.state).toBe('ROLLED_BACK');
      // What the SDK does with it gives exactly the service's snapshot.
      const { generatedAt: _generatedAt, ...definition } = JSON.parse(first.data) as Snapshot;
      const patched = patchSnapshot(definition as unknown as SnapshotDefinition, delta);
      expect(sortedByKey(patched)).toEqual(sortedByKey(after));
    });

    it('with ?delta=1 and a Last-Event-ID one revision behind, starts with the delta; further behind, with the snapshot', async () => {
      const key = uniqueKey('behind');
      await createSlice(t.admin, { key, percent: 10 });
      const before = await snapshotAt(await headRevision());
      await t.admin.ok('mutation($key: String!) { setRollout(key: $key, percent: 20, reason: "behind") { key } }', { key });
      const current = await snapshotAt(before.revision + 1);

      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?delta=1`, { authorization: `Bearer ${sdkToken}`, 'last-event-id': String(before.revision) });
      const delta = await nextBesidesHeartbeats(stream);
      expect(delta.event).toBe('delta');
      expect(JSON.parse(delta.data)).toMatchObject({ revision: current.revision, baseRevision: before.revision });
      stream.close();

      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?delta=1`, { authorization: `Bearer ${sdkToken}`, 'last-event-id': String(before.revision - 1) });
      const snapshot = await stream.next();
      expect(snapshot.event).toBe('snapshot');
      expect((JSON.parse(snapshot.data) as Snapshot).revision).toBe(current.revision);
      stream.close();

      // Without delta=1 (an older SDK), always the whole snapshot.
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${sdkToken}`, 'last-event-id': String(before.revision) });
      expect((await stream.next()).event).toBe('snapshot');
    });

    it('with ?revisions=1, sends only the revision: first the current one, then each new one, never a snapshot or a delta', async () => {
      const key = uniqueKey('revisions');
      await createSlice(t.admin, { key, percent: 30 });
      // Once this instance serves it (on PostgreSQL the change feed brings it a moment later).
      const start = (await snapshotAt(await headRevision())).revision;
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?revisions=1&delta=1`, { authorization: `Bearer ${sdkToken}` });
      const first = await nextBesidesHeartbeats(stream);
      expect(first).toMatchObject({ event: 'revision', id: String(start) });
      expect(JSON.parse(first.data)).toEqual({ revision: start });

      await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "revisions test") { key } }', { key });
      const next = await nextBesidesHeartbeats(stream);
      expect(next).toMatchObject({ event: 'revision', id: String(start + 1) });
      expect(JSON.parse(next.data)).toEqual({ revision: start + 1 });
      stream.close();

      // Holding the current revision (an EventSource reconnecting): nothing until the next change.
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?revisions=1`, { authorization: `Bearer ${sdkToken}`, 'last-event-id': String(start + 1) });
      await t.admin.ok('mutation($key: String!) { resume(key: $key, reason: "revisions test") { key } }', { key });
      expect(await nextBesidesHeartbeats(stream)).toMatchObject({ event: 'revision', id: String(start + 2) });
    });

    it('streams to an HTTP/1.0 client too (no chunked encoding: events as they are, until the connection closes)', async () => {
      const key = uniqueKey('http10');
      await createSlice(t.admin, { key });
      const start = await snapshotAt(await headRevision());
      const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => (received += text));
      socket.write(`GET /sdk/v1/stream?delta=1 HTTP/1.0\r\nauthorization: Bearer ${sdkToken}\r\nlast-event-id: ${start.revision}\r\n\r\n`);
      try {
        await waitUntil(() => received.includes('retry:'));
        await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "http/1.0") { key } }', { key });
        await waitUntil(() => received.includes('event: delta'));
        const [head, body] = received.split('\r\n\r\n') as [string, string];
        expect(head).not.toMatch(/transfer-encoding/i);
        // No chunk-size lines: the body is the event stream itself (heartbeats, every 200 ms here, may come between).
        const events = body.replace(/event: heartbeat\ndata: \{"revision":\d+\}\n\n/g, '');
        expect(events).toMatch(/^retry: \d+\n\nid: \d+\nevent: delta\ndata: \{/);
      } finally {
        socket.destroy();
      }
    });

    it('refuses a stream without a valid token', async () => {
      const res = await get('/sdk/v1/stream', { accept: 'text/event-stream' }, null);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    });
  });

  it('a shutdown ends open streams cleanly instead of leaving them to be cut', async () => {
    const other = await createTestApp();
    const token = await other.tokenFor('sdk');
    const stream = await openEventStream(`${other.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${token}` });
    await stream.next('snapshot');
    const ended = stream.end();
    await other.close();
    // Were the stream left to Apollo's drain, the connection would be destroyed after its grace period.
    expect(await ended).toBe('clean');
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sortedByKey(snapshot: { revision: number; slices: readonly { key: string }[]; segments: readonly { key: string }[] }) {
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return { revision: snapshot.revision, slices: [...snapshot.slices].sort(byKey), segments: [...snapshot.segments].sort(byKey) };
}

/** A GET that shows the bytes as sent (fetch would decompress them). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
