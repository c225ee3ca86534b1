import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { openEventStream } from '../utils/event-stream.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { takeDatabaseAway } from '../utils/outage.js';

/**
 * Delivery is served from memory: with the database gone, SDKs that were known before keep
 * getting the last snapshot (by request and by stream), while writes answer SERVICE_UNAVAILABLE.
 */
describe('delivery while the database is down', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '100' });
    token = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps serving the last snapshot and streams to known tokens; refuses unknown ones', async () => {
    const key = uniqueKey('api.route');
    await createSlice(t.admin, { key, percent: 30 });
    const auth = { authorization: `Bearer ${token}` };
    type Snapshot = { revision: number; slices: { key: string }[] };
    const read = async () => (await (await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: auth })).json()) as Snapshot;
    let before = await read();
    for (let i = 0; i < 100 && !before.slices.some((s) => s.key === key); i++) before = await read();
    expect(before.slices.some((s) => s.key === key)).toBe(true);

    await takeDatabaseAway(t);

    const res = await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: auth });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { revision: number }).revision).toBe(before.revision);
    expect((await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { ...auth, 'if-none-match': `"${before.revision}"` } })).status).toBe(304);

    const stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, auth);
    try {
      expect(JSON.parse((await stream.next('snapshot')).data)).toMatchObject({ revision: before.revision });
      expect(JSON.parse((await stream.next('heartbeat')).data)).toEqual({ revision: before.revision });
    } finally {
      stream.close();
    }

    // A token never seen by this instance cannot be checked now: SERVICE_UNAVAILABLE, not a pass.
    const stranger = await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: 'Bearer sy_never_seen_token_0123456789abcd' } });
    expect(stranger.status).toBe(503);
    const write = await t.admin.error('mutation { createSlice(key: "during.outage") { key } }');
    expect(write.extensions?.code).toBe('SERVICE_UNAVAILABLE');
  });
});
