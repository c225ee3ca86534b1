import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createClient, type SwitchyardClient } from '@switchyard/client-sdk';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/env.js';
import { checkpointEnv } from '../utils/checkpoint-key.js';
import { GraphqlClient } from '../utils/graphql-client.js';
import { createTestDatabase, type TestDatabase } from '../utils/test-database.js';
import { TcpProxy } from '../utils/tcp-proxy.js';

const ADMIN = 'sy_resilience_admin_token_0123456789';
const FAST = { heartbeatTimeoutMs: 1_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 300 } };

/**
 * The SDK against the real service when things go wrong: the service stops, the host restarts
 * while the service is down, the network between them is cut while a change is made.
 * The service runs on a fixed port and a database that outlives it (a data directory, or a
 * PostgreSQL scratch database), so it can be stopped and started again as in production.
 */
describe('SDK resilience', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sdk-'));
  let database: TestDatabase;
  let app: INestApplication<Server> | null = null;
  let port = 0;
  let admin: GraphqlClient;
  let sdkToken: string;
  const clients: SwitchyardClient[] = [];

  async function startService(): Promise<void> {
    const config = loadConfig({
      PORT: String(port),
      SWITCHYARD_DATA_DIR: join(dir, 'data'),
      SWITCHYARD_ADMIN_TOKEN: ADMIN,
      SWITCHYARD_STREAM_HEARTBEAT_MS: '200',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
      ...checkpointEnv(database.url),
    });
    app = await createApp(config, { logger: false });
    await app.listen(port, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
    admin = new GraphqlClient(`http://127.0.0.1:${port}`, ADMIN);
  }

  async function stopService(): Promise<void> {
    await app?.close();
    app = null;
  }

  async function client(options: Partial<Parameters<typeof createClient>[0]> = {}): Promise<SwitchyardClient> {
    const c = await createClient({ url: `http://127.0.0.1:${port}`, token: sdkToken, appName: 'resilience-test', ...FAST, ...options });
    clients.push(c);
    return c;
  }

  /** The SDK holds the configuration made in beforeAll (the snapshot follows commits asynchronously). */
  async function ready(sdk: SwitchyardClient): Promise<void> {
    await waitFor(
      () => ['payments.provider.mpesa', 'api.get-transactions'].every((k) => sdk.explain(k, { userId: 'x' }).reason !== 'UNKNOWN_SLICE'),
      'the configuration to reach the SDK',
    );
  }

  async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await startService();
    sdkToken = (await admin.ok<{ createToken: { secret: string } }>('mutation { createToken(name: "resilience-sdk", role: SDK) { secret } }')).createToken.secret;
    await admin.ok('mutation { createSlice(key: "payments.provider.mpesa", percent: 100) { key } }');
    await admin.ok('mutation { createSlice(key: "api.get-transactions", percent: 50) { key } }');
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await stopService();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps deciding from the last snapshot while the service is down, and resynchronizes by itself when it is back', async () => {
    const sdk = await client();
    await ready(sdk);
    const subjects = Array.from({ length: 500 }, (_, i) => ({ userId: `user-${i}` }));
    const before = subjects.map((s) => sdk.decide('api.get-transactions', s));
    expect(sdk.decide('payments.provider.mpesa', { userId: 'u1' })).toBe('NEW');

    await stopService();
    await waitFor(() => !sdk.status().connected, 'the SDK to notice');
    // Same answers, no exception reached us, and the trouble is visible.
    expect(subjects.map((s) => sdk.decide('api.get-transactions', s))).toEqual(before);
    expect(sdk.status().staleSince).toBeInstanceOf(Date);

    await startService();
    await admin.ok('mutation { rollback(key: "payments.provider.mpesa", reason: "after restart") { key } }');
    await waitFor(() => sdk.decide('payments.provider.mpesa', { userId: 'u1' }) === 'LEGACY', 'the rollback to arrive');
    await waitFor(() => sdk.status().connected, 'the stream to come back');
    expect(sdk.status().staleSince).toBeNull();
    await admin.ok('mutation { resume(key: "payments.provider.mpesa", reason: "restore") { key } }');
    await waitFor(() => sdk.decide('payments.provider.mpesa', { userId: 'u1' }) === 'NEW', 'the resume to arrive');
  });

  it('a host restarted while the service is down starts from its backup file', async () => {
    const backupFile = join(dir, 'switchyard-backup.json');
    const first = await client({ backupFile });
    await ready(first);
    const revision = first.status().revision;
    const subjects = Array.from({ length: 200 }, (_, i) => ({ userId: `host-${i}` }));
    const expected = subjects.map((s) => first.explain('api.get-transactions', s));
    await first.close();
    await stopService();

    // The host comes back; the control plane is still down.
    const restarted = await client({ backupFile, initTimeoutMs: 300 });
    expect(restarted.status()).toMatchObject({ source: 'backup', revision, connected: false });
    expect(subjects.map((s) => restarted.explain('api.get-transactions', s))).toEqual(expected);
    await restarted.close();
    await startService();
  });

  it('a change made while the SDK was cut off arrives after it reconnects: no missed revision', async () => {
    const proxy = await new TcpProxy(port).start();
    try {
      const sdk = await client({ url: proxy.url });
      await waitFor(() => sdk.status().connected, 'the stream');
      await ready(sdk);
      expect(sdk.decide('payments.provider.mpesa', { userId: 'u1' })).toBe('NEW');

      await proxy.cut();
      await waitFor(() => !sdk.status().connected, 'the SDK to notice the cut');
      await admin.ok('mutation { setRollout(key: "api.get-transactions", reason: "test", percent: 0) { key } }');
      await admin.ok('mutation { rollback(key: "payments.provider.mpesa", reason: "while cut off") { key } }');
      // Still cut off: the SDK cannot know yet.
      expect(sdk.decide('payments.provider.mpesa', { userId: 'u1' })).toBe('NEW');

      await proxy.restore();
      await waitFor(() => sdk.decide('payments.provider.mpesa', { userId: 'u1' }) === 'LEGACY', 'the missed rollback');
      expect(sdk.decide('api.get-transactions', { userId: 'anyone' })).toBe('LEGACY');
      expect(sdk.explain('payments.provider.mpesa', { userId: 'u1' }).reason).toBe('ROLLED_BACK');
    } finally {
      await proxy.close();
    }
  });
});
