import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';

/**
 * The SDK given a URL that is not the service's base URL, against the real service (issue 11: a
 * new user passed the `/graphql` address and read Apollo's CSRF message). The client must say
 * WRONG_URL, through onError and status(), and never throw into the host; given the right URL
 * afterwards, the same token works.
 */
describe('SDK given a wrong URL', () => {
  let t: TestApp;
  let token: string;
  const sdks = new ClientFactory({ appName: 'sdk-wrong-url', initTimeoutMs: 1_000, pollIntervalMs: 100, backoff: { initialMs: 50, maxMs: 500 }, metrics: false });

  beforeAll(async () => {
    t = await createTestApp();
    token = await t.tokenFor('sdk');
  });
  afterEach(async () => {
    await sdks.closeAll();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The errors a client reported, as [code, operation, httpStatus, serviceCode]. */
  const seen = () => sdks.errors.map((e) => [e.code, e.operation, e.httpStatus, e.serviceCode]);

  it('the GraphQL endpoint: WRONG_URL at start, then for the answers (Apollo refuses the GET: 400)', async () => {
    const key = uniqueKey('wrong-url');
    await createSlice(t.admin, { key, percent: 100 });
    // Resolves (after initTimeoutMs), as with the service down: never a rejection for the host.
    const client = await sdks.create(`${t.baseUrl}/graphql`, { token });
    await waitFor(() => seen().some(([, operation]) => operation === 'poll'), 5_000, 'a poll answered');
    expect(seen()[0]).toEqual(['WRONG_URL', 'stream', undefined, undefined]);
    expect(seen()).toContainEqual(['WRONG_URL', 'stream', 400, 'BAD_REQUEST']);
    expect(seen()).toContainEqual(['WRONG_URL', 'poll', 400, 'BAD_REQUEST']);
    expect(new Set(seen().map(([code]) => code))).toEqual(new Set(['WRONG_URL']));
    expect(client.status()).toMatchObject({ state: 'connecting', connected: false, source: 'none', lastError: { code: 'WRONG_URL', httpStatus: 400 } });
    expect(client.explain(key, { userId: 'u1' })).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });

    // The same token, at the base URL: the slice is served.
    const right = await sdks.create(t.baseUrl, { token });
    expect(right.decide(key, { userId: 'u1' })).toBe('NEW');
  });

  it('a path the service does not serve (the Unleash API base, /api): WRONG_URL from the 404', async () => {
    const client = await sdks.create(`${t.baseUrl}/api`, { token });
    await waitFor(() => seen().length >= 2, 5_000, 'the stream and the poll answered');
    expect(seen()).toContainEqual(['WRONG_URL', 'stream', 404, 'ROUTE_NOT_FOUND']);
    expect(seen()).toContainEqual(['WRONG_URL', 'poll', 404, 'ROUTE_NOT_FOUND']);
    expect(client.status().lastError).toMatchObject({ code: 'WRONG_URL', httpStatus: 404 });
  });
});
