import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { openEventStream, type EventStream } from '../utils/event-stream.js';
import { createSlice, uniqueKey } from '../utils/operations.js';

interface Snapshot {
  revision: number;
  slices: { key: string; state: string }[];
}

/**
 * Several instances over one PostgreSQL: a change committed through any instance reaches the
 * streams of every instance (LISTEN/NOTIFY), and a lost LISTEN connection is made good.
 * PostgreSQL only: the embedded engine is one process, one instance.
 */
const onPostgres = process.env.DATABASE_URL?.trim() ? describe : describe.skip;

onPostgres('two instances over one PostgreSQL database', () => {
  let a: TestApp;
  let b: TestApp;
  let token: string;
  let stream: EventStream | null = null;

  beforeAll(async () => {
    // No periodic resync: what reaches instance B must come through the change feed.
    a = await createTestApp({ SWITCHYARD_SNAPSHOT_RESYNC_MS: '3600000' });
    b = await createTestApp({ SWITCHYARD_SNAPSHOT_RESYNC_MS: '3600000' }, { shareDatabaseOf: a });
    token = await a.tokenFor('sdk');
  });
  afterAll(async () => {
    stream?.close();
    await b?.close();
    await a?.close();
  });
  afterEach(() => {
    stream?.close();
    stream = null;
  });

  async function streamFrom(app: TestApp): Promise<{ stream: EventStream; first: Snapshot }> {
    const s = await openEventStream(`${app.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${token}` });
    return { stream: s, first: JSON.parse((await s.next('snapshot')).data) as Snapshot };
  }

  /** The next snapshot on the stream in which `key` has `state`. */
  async function untilState(s: EventStream, key: string, state: string): Promise<Snapshot> {
    for (;;) {
      const snapshot = JSON.parse((await s.next('snapshot', 5_000)).data) as Snapshot;
      if (snapshot.slices.find((x) => x.key === key)?.state === state) return snapshot;
    }
  }

  it('a rollback through instance A reaches a stream on instance B', async () => {
    const key = uniqueKey('payments.provider');
    await createSlice(a.admin, { key, percent: 100 });
    const opened = await streamFrom(b);
    stream = opened.stream;
    await a.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "via A") { key } }', { key });
    const seen = await untilState(stream, key, 'ROLLED_BACK');
    expect(seen.revision).toBeGreaterThan(opened.first.revision);
  });

  it('instance B catches up after its LISTEN connection is cut, including what changed meanwhile', async () => {
    const key = uniqueKey('api.route');
    await createSlice(a.admin, { key, percent: 100 });
    stream = (await streamFrom(b)).stream;
    // Cut every change-feed connection (both instances'), then change at once through A.
    await a.dataSource.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'switchyard-change-feed' AND datname = current_database()");
    await a.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "during the cut") { key } }', { key });
    await untilState(stream, key, 'ROLLED_BACK');
    // And the feed is back: the next change arrives through it again.
    await a.admin.ok('mutation($key: String!) { resume(key: $key, reason: "after the cut") { key } }', { key });
    await untilState(stream, key, 'ACTIVE');
  });

  it('both instances serve the same revision for the same state', async () => {
    await createSlice(a.admin, { key: uniqueKey('same') });
    const revisionOf = async (app: TestApp) => {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${app.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
        const etag = res.headers.get('etag');
        const rows: { r: string }[] = await a.dataSource.query("SELECT max(sequence)::text AS r FROM history WHERE action NOT IN ('TOKEN_CREATED', 'TOKEN_REVOKED')");
        if (etag === `"${rows[0]!.r}"`) return etag;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('snapshot never caught up');
    };
    expect(await revisionOf(b)).toBe(await revisionOf(a));
  });
});
