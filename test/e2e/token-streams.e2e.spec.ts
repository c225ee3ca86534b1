import type { SwitchyardClient } from '@switchyard/client-sdk';
import { InMemStorageProvider, Unleash, UnleashEvents } from 'unleash-client';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { UnleashStreamHub } from '../../src/compat/unleash/unleash-stream-hub.service.js';
import { StreamHub } from '../../src/delivery/stream-hub.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { openEventStream } from '../utils/event-stream.js';
import { createSlice, uniqueKey } from '../utils/operations.js';

/** Short, so that a revocation through another instance is found quickly (what is asserted is "within it"). */
const TOKEN_CACHE_MS = 500;
const ON_POSTGRES = !!process.env.DATABASE_URL?.trim();

interface IssuedToken {
  readonly id: string;
  readonly secret: string;
}

/**
 * A stream is authenticated once, when it opens. Revoking its token (through the instance that
 * serves it: at once; through another: within SWITCHYARD_TOKEN_CACHE_MS) or the token expiring
 * ends it, cleanly, for both protocols; the real clients then reconnect, are refused (401), and
 * say so: the SDK reports UNAUTHORIZED, unleash-client falls back to polling and reports the
 * refusal. Streams of other tokens are left alone. Both engines; two instances on PostgreSQL.
 */
describe('streams end with their token', () => {
  let t: TestApp;
  const sdks = new ClientFactory({ appName: 'token-streams-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 2_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 300 } });
  const unleashClients: Unleash[] = [];

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_TOKEN_CACHE_MS: String(TOKEN_CACHE_MS), SWITCHYARD_STREAM_HEARTBEAT_MS: '200' });
  });
  afterEach(async () => {
    await sdks.closeAll();
    for (const client of unleashClients.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function issue(app: TestApp, expiresAt?: Date): Promise<IssuedToken> {
    const data = await app.admin.ok<{ createToken: { secret: string; token: { id: string } } }>(
      'mutation($name: String!, $expiresAt: DateTime) { createToken(name: $name, role: SDK, expiresAt: $expiresAt) { secret token { id } } }',
      { name: uniqueKey('stream-token'), expiresAt: expiresAt?.toISOString() ?? null },
    );
    return { id: data.createToken.token.id, secret: data.createToken.secret };
  }

  const revoke = (app: TestApp, token: IssuedToken) => app.admin.ok('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: token.id });
  const rollback = (app: TestApp, key: string) => app.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "after the revocation") { key } }', { key });

  /** A real SDK client streaming from `app` with `token`, once it holds the slice `key`. */
  async function streamingSdk(app: TestApp, token: IssuedToken, key: string): Promise<SwitchyardClient> {
    const client = await sdks.create(app.baseUrl, { token: token.secret });
    await waitFor(() => client.status().state === 'streaming' && client.explain(key, { userId: 'u-1' }).reason !== 'UNKNOWN_SLICE', 10_000, 'the SDK streaming');
    return client;
  }

  /**
   * A real unleash-client streaming from `app` with `token`; `errors` records what it reports.
   * Refused when it reconnects its stream (401, a "hard failover" for it), it falls back to
   * polling, and reports the refusal of its first poll as an error.
   */
  async function streamingUnleash(app: TestApp, token: IssuedToken, key: string) {
    const errors: Error[] = [];
    const client = new Unleash({
      url: `${app.baseUrl}/api/`,
      appName: 'token-streams-e2e',
      instanceId: uniqueKey('instance'),
      customHeaders: { Authorization: token.secret },
      refreshInterval: 60_000,
      disableMetrics: true,
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
      experimentalMode: { type: 'streaming' },
    });
    client.on(UnleashEvents.Error, (error: Error) => errors.push(error));
    client.on(UnleashEvents.Warn, () => undefined);
    unleashClients.push(client);
    await waitFor(() => client.getFeatureToggleDefinition(key) !== undefined, 10_000, 'unleash-client streaming');
    return { client, errors };
  }

  it('revoking through the same instance ends the SDK and Unleash streams of that token at once, and only theirs', async () => {
    const key = uniqueKey('revoked.here');
    await createSlice(t.admin, { key, percent: 100 });
    const doomed = await issue(t);
    const kept = await issue(t);
    const sdk = await streamingSdk(t, doomed, key);
    const unleash = await streamingUnleash(t, doomed, key);
    const raw = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${doomed.secret}` });
    const survivor = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${kept.secret}` });
    await raw.next('snapshot');
    await survivor.next('snapshot');
    const sdkHub = t.app.get(StreamHub);
    const unleashHub = t.app.get(UnleashStreamHub);
    expect(sdkHub.size).toBe(3);
    expect(unleashHub.size).toBe(1);

    const revoked = performance.now();
    await revoke(t, doomed);
    // Ended by the server, cleanly (the response's end, not a broken connection).
    expect(await raw.end()).toBe('clean');
    const ended = performance.now() - revoked;
    await waitFor(() => sdkHub.size === 1 && unleashHub.size === 0, 2_000, 'the streams of the revoked token to end');
    console.info(`streams of a token revoked through the same instance ended ${ended.toFixed(0)} ms after the revocation was sent`);
    expect(ended).toBeLessThan(1_000);

    // The clients reconnect, are refused, and say so.
    await waitFor(() => sdks.codes().includes('UNAUTHORIZED'), 5_000, 'the SDK to report the refused token');
    expect(sdk.status().connected).toBe(false);
    await waitFor(() => unleash.errors.length > 0, 10_000, 'unleash-client to report the refusal');

    // Nothing reaches them any more; the other token's stream still gets every change.
    await rollback(t, key);
    for (let state = ''; state !== 'ROLLED_BACK';) {
      const snapshot = JSON.parse((await survivor.next('snapshot')).data) as { slices: { key: string; state: string }[] };
      state = snapshot.slices.find((s) => s.key === key)?.state ?? '';
    }
    expect(sdk.decide(key, { userId: 'u-1' })).toBe('NEW');
    expect(unleash.client.isEnabled(key, { userId: 'u-1' })).toBe(true);
    survivor.close();
  });

  it('an expiring token ends its streams at its expiry time', async () => {
    const key = uniqueKey('expiring');
    await createSlice(t.admin, { key, percent: 100 });
    const expiresAt = new Date(Date.now() + 2_500);
    const token = await issue(t, expiresAt);
    await streamingSdk(t, token, key);
    const sdkStream = await openEventStream(`${t.baseUrl}/sdk/v1/stream`, { authorization: `Bearer ${token.secret}` });
    const unleashStream = await openEventStream(`${t.baseUrl}/api/client/streaming`, { authorization: token.secret });
    await sdkStream.next('snapshot');
    await unleashStream.next('unleash-connected');

    const [sdkEnd, unleashEnd] = await Promise.all([sdkStream.end(), unleashStream.end()]);
    const late = Date.now() - expiresAt.getTime();
    console.info(`streams of an expired token ended ${late} ms after its expiry`);
    expect([sdkEnd, unleashEnd]).toEqual(['clean', 'clean']);
    // Not before the expiry; right after it (a timer, not the next heartbeat or re-verification).
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(TOKEN_CACHE_MS);
    await waitFor(() => sdks.codes().includes('UNAUTHORIZED'), 5_000, 'the SDK to report the expired token');
  });

  (ON_POSTGRES ? describe : describe.skip)('revoked through another instance (PostgreSQL: the embedded engine is one instance)', () => {
    let other: TestApp;
    beforeAll(async () => {
      other = await createTestApp({ SWITCHYARD_TOKEN_CACHE_MS: String(TOKEN_CACHE_MS), SWITCHYARD_STREAM_HEARTBEAT_MS: '200' }, { shareDatabaseOf: t });
    });
    afterAll(async () => {
      await other?.close();
    });

    it('ends the SDK and Unleash streams on this instance within SWITCHYARD_TOKEN_CACHE_MS', async () => {
      const key = uniqueKey('revoked.elsewhere');
      await createSlice(t.admin, { key, percent: 100 });
      const token = await issue(t);
      const sdk = await streamingSdk(t, token, key);
      const unleash = await streamingUnleash(t, token, key);
      const raw = await openEventStream(`${t.baseUrl}/api/client/streaming`, { authorization: token.secret });
      await raw.next('unleash-connected');

      const revoked = performance.now();
      await revoke(other, token);
      expect(await raw.end()).toBe('clean');
      const ended = performance.now() - revoked;
      await waitFor(() => t.app.get(StreamHub).size === 0 && t.app.get(UnleashStreamHub).size === 0, 2_000, 'every stream of the token to end');
      console.info(`streams of a token revoked through another instance ended ${ended.toFixed(0)} ms after the revocation was sent (cache period ${TOKEN_CACHE_MS} ms)`);
      // Within the cache period, plus the re-verification query itself.
      expect(ended).toBeLessThan(TOKEN_CACHE_MS + 500);

      await waitFor(() => sdks.codes().includes('UNAUTHORIZED'), 5_000, 'the SDK to report the refused token');
      expect(sdk.status().connected).toBe(false);
      await waitFor(() => unleash.errors.length > 0, 10_000, 'unleash-client to report the refusal');
    });
  });
});
