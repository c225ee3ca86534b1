import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlError } from '../utils/graphql-client.js';
import { takeDatabaseAway } from '../utils/outage.js';

describe('health and an unavailable database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    // The scratch database may already be gone: dropping it is IF EXISTS, and the app's pool
    // closes cleanly over terminated connections.
    await t?.close();
  });

  async function get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(new URL(path, t.baseUrl));
    return { status: res.status, body: await res.json() };
  }

  const makeDatabaseUnavailable = () => takeDatabaseAway(t);

  function expectUnavailable(error: GraphqlError | undefined): void {
    expect(error?.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', errorCode: 'DATABASE_UNAVAILABLE' });
    // No internal detail: neither the driver's words nor the database's name.
    expect(error?.message).not.toMatch(/TypeError|Cannot read|terminat|does not exist|switchyard_test|PGlite|ECONN|SQL|\bat /);
  }

  describe('while the database answers', () => {
    it('GET /health/live answers 200 without a token', async () => {
      expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('GET /health/ready answers 200 without a token: database ok, migrations applied', async () => {
      expect(await get('/health/ready')).toEqual({ status: 200, body: { status: 'ok', database: 'ok', migrations: 'applied' } });
    });

    it('GraphQL still needs a token', async () => {
      const error = await t.as(null).error('{ slices { nodes { key } } }');
      expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('once the database is gone', () => {
    beforeAll(async () => {
      // Something to ask for afterwards, written while it still could be.
      await t.admin.ok('mutation { createSlice(key: "before.the.outage", percent: 5) { key } }');
      await makeDatabaseUnavailable();
    });

    it('GET /health/ready answers 503, database unreachable; /health/live stays 200', async () => {
      const ready = await get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
      expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('a GraphQL query and a mutation answer SERVICE_UNAVAILABLE, with no internal detail', async () => {
      const query = await t.admin.request('{ slice(key: "before.the.outage") { key percent } }');
      expect(query.errors).toHaveLength(1);
      expectUnavailable(query.errors![0]);
      expect(query.data ?? null).toBeNull();

      const mutation = await t.admin.request('mutation { setRollout(key: "before.the.outage", reason: "test", percent: 50) { version } }');
      expect(mutation.errors).toHaveLength(1);
      expectUnavailable(mutation.errors![0]);

      // Still unavailable (and still alive) on the next request.
      expect((await get('/health/ready')).status).toBe(503);
    });
  });
});
