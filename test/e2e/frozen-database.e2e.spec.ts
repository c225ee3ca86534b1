import pg from 'pg';
import type { SwitchyardClient } from '@switchyard/client-sdk';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import type { AppConfig } from '../../src/config/env.js';
import { READ_GRACE_MS } from '../../src/database/connection-timeouts.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { openEventStream } from '../utils/event-stream.js';
import type { GraphqlResponse } from '../utils/graphql-client.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';
import { TcpProxy } from '../utils/tcp-proxy.js';

/**
 * The network between the service and PostgreSQL freezes: packets dropped, nothing refused,
 * nothing closed (TcpProxy.freeze, between two instances and the database). Every GraphQL request
 * answers SERVICE_UNAVAILABLE within the configured bounds; SDK and Unleash delivery, for tokens
 * seen before, answer from memory at once throughout; readiness says the database is unreachable.
 * Once the network carries again, the next rollback works at once (no connection of the pool left
 * frozen, no lock left held) and reaches SDK streams on both instances, and nothing was half
 * written.
 *
 * PostgreSQL only: the embedded engine runs inside the service's process, so there is no network
 * between them to freeze.
 *
 * Small timeouts by default, so the file runs in seconds; FROZEN_DB_DEFAULT_TIMEOUTS=1 runs it with
 * the service's defaults instead, to measure them (every bound asserted is computed from the
 * configuration in use). The figures are printed.
 */
const onPostgres = process.env.DATABASE_URL?.trim() ? describe : describe.skip;
const WITH_DEFAULT_TIMEOUTS = process.env.FROZEN_DB_DEFAULT_TIMEOUTS === '1';

const TIMEOUTS: Record<string, string> = WITH_DEFAULT_TIMEOUTS
  ? {}
  : {
      SWITCHYARD_DB_CONNECT_TIMEOUT_MS: '500',
      SWITCHYARD_DB_STATEMENT_TIMEOUT_MS: '500',
      SWITCHYARD_DB_TRANSACTION_TIMEOUT_MS: '1000',
      SWITCHYARD_CHANGE_FEED_PROBE_MS: '250',
    };
const ENV = {
  ...TIMEOUTS,
  // Background re-verification of tokens runs (and fails) throughout the freeze.
  SWITCHYARD_TOKEN_CACHE_MS: '500',
  SWITCHYARD_STREAM_HEARTBEAT_MS: '200',
  // What reaches instance B after the thaw must come through its change feed, not the safety net.
  SWITCHYARD_SNAPSHOT_RESYNC_MS: '3600000',
};

/**
 * The most a GraphQL request may take to answer SERVICE_UNAVAILABLE: waiting for a connection,
 * then for the answer to one statement (the server's statement timeout, then the client's grace);
 * a change's transaction is cut at its own bound, if sooner. Plus scheduling slack on a shared
 * machine.
 */
function unavailableWithinMs(config: AppConfig): number {
  return config.databaseConnectTimeoutMs + config.databaseStatementTimeoutMs + READ_GRACE_MS + 500;
}

/**
 * Less than any timeout configured here: an answer this quick cannot have waited on the database.
 * Generous for a shared 2-core machine: from memory, these answer in a few milliseconds.
 */
const FROM_MEMORY_MS = 400;

interface Timed<T> {
  readonly ms: number;
  readonly value: T;
}

async function timed<T>(f: () => Promise<T>): Promise<Timed<T>> {
  const start = performance.now();
  const value = await f();
  return { ms: performance.now() - start, value };
}

function codeOf(res: GraphqlResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

onPostgres('a frozen database (TcpProxy between the service and PostgreSQL)', () => {
  let proxy: TcpProxy;
  let a: TestApp;
  let b: TestApp;
  let sdkToken: string;
  let sdkA: SwitchyardClient;
  let sdkB: SwitchyardClient;
  const sdks = new ClientFactory({ appName: 'frozen-db-e2e', initTimeoutMs: 5_000, heartbeatTimeoutMs: 2_000, pollIntervalMs: 200, backoff: { initialMs: 50, maxMs: 300 } });
  const figures: string[] = [];

  beforeAll(async () => {
    const server = new URL(process.env.DATABASE_URL!);
    proxy = await new TcpProxy(Number(server.port || 5432), server.hostname).start();
    const via = (url: string) => {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      return proxied.toString();
    };
    a = await createTestApp(ENV, { databaseUrlVia: via });
    b = await createTestApp(ENV, { shareDatabaseOf: a, databaseUrlVia: via });
    sdkToken = await a.tokenFor('sdk');
  });
  afterAll(async () => {
    await sdks.closeAll();
    // Closing the proxy closes the connections lost to the freeze, so that both instances shut down.
    await proxy?.close();
    await b?.close();
    await a?.close();
    console.info(`frozen database, ${WITH_DEFAULT_TIMEOUTS ? 'default timeouts' : 'test timeouts'}:\n  ${figures.join('\n  ')}`);
  });

  /** Direct to PostgreSQL, not through the proxy: what the server itself says. */
  async function direct<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: a.database.url! });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Sessions holding the lock every change takes (HISTORY_APPEND_LOCK in history.repository.ts). */
  const changeLockHolders = () => direct<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 7346100 AND granted");

  const rollback = (app: TestApp, key: string) => app.admin.request('mutation($key: String!) { rollback(key: $key, reason: "frozen-db") { key state } }', { key });
  const setRollout = (app: TestApp, key: string, percent: number) =>
    app.admin.request('mutation($key: String!, $percent: Float!) { setRollout(key: $key, reason: "test", percent: $percent) { key percent } }', { key, percent });

  const rolledBack = uniqueKey('frozen.rollback');
  const rolledOut = uniqueKey('frozen.rollout');

  it('while frozen: GraphQL answers SERVICE_UNAVAILABLE within the bounds, delivery from memory at once, readiness says unreachable', async () => {
    await createSlice(a.admin, { key: rolledBack, percent: 100 });
    await createSlice(a.admin, { key: rolledOut, percent: 10 });
    // Known to both instances before the freeze: by the SDKs' streams and polls, and an Unleash poll.
    sdkA = await sdks.create(a.baseUrl, { token: sdkToken });
    sdkB = await sdks.create(b.baseUrl, { token: sdkToken });
    for (const sdk of [sdkA, sdkB]) {
      await waitFor(() => sdk.status().state === 'streaming' && sdk.decide(rolledBack, { userId: 'u-1' }) === 'NEW', 10_000, 'the SDKs');
    }
    const sdkAuth = { authorization: `Bearer ${sdkToken}` };
    const unleashAuth = { authorization: sdkToken };
    // Both instances at the same revision, and the Unleash view of it computed.
    const etagOf = async (url: string, headers: Record<string, string>) => (await fetch(url, { headers })).headers.get('etag');
    let featuresEtag: string | null = null;
    let snapshotEtag: string | null = null;
    await waitFor(
      async () => {
        featuresEtag = await etagOf(`${a.baseUrl}/api/client/features`, unleashAuth);
        snapshotEtag = await etagOf(`${b.baseUrl}/sdk/v1/snapshot`, sdkAuth);
        // The Unleash ETag is `"<revision>;spec=<level>"`, the snapshot's `"<revision>"`.
        const featuresRevision = featuresEtag?.replace(/^"([^;"]*).*$/, '"$1"');
        return featuresRevision !== undefined && featuresRevision === snapshotEtag && snapshotEtag === (await etagOf(`${a.baseUrl}/sdk/v1/snapshot`, sdkAuth));
      },
      10_000,
      'both instances at the same revision',
    );
    // A token instance A has not verified yet.
    const stranger = await a.tokenFor('viewer');
    // The pool full of idle connections: each will be lost to the freeze without knowing it.
    await Promise.all(Array.from({ length: 10 }, () => a.dataSource.query('SELECT pg_sleep(0.05)')));

    proxy.freeze();
    const frozenAt = performance.now();

    // Delivery, polled throughout the freeze.
    const delivery: { what: string; status: number; ms: number }[] = [];
    let polling = true;
    const poller = (async () => {
      const requests: [string, string, Record<string, string>][] = [
        ['snapshot A', `${a.baseUrl}/sdk/v1/snapshot`, sdkAuth],
        ['snapshot B 304', `${b.baseUrl}/sdk/v1/snapshot`, { ...sdkAuth, 'if-none-match': snapshotEtag! }],
        ['unleash features A', `${a.baseUrl}/api/client/features`, unleashAuth],
        ['unleash features A 304', `${a.baseUrl}/api/client/features`, { ...unleashAuth, 'if-none-match': featuresEtag! }],
      ];
      while (polling) {
        for (const [what, url, headers] of requests) {
          const r = await timed(async () => (await fetch(url, { headers })).status);
          delivery.push({ what, status: r.value, ms: r.ms });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const bound = unavailableWithinMs(a.config);
    const [mutation, rollbackDuringFreeze, read, strangerRead, ready, stream] = await Promise.all([
      timed(() => setRollout(a, rolledOut, 55)),
      timed(() => rollback(a, rolledBack)),
      timed(() => a.admin.request('{ slices { nodes { key } } }')),
      timed(() => a.as(stranger).request('{ slices { nodes { key } } }')),
      timed(async () => (await fetch(`${a.baseUrl}/health/ready`)).status),
      timed(async () => {
        const s = await openEventStream(`${b.baseUrl}/sdk/v1/stream`, sdkAuth);
        try {
          return JSON.parse((await s.next('snapshot')).data) as { revision: number };
        } finally {
          s.close();
        }
      }),
    ]);
    for (const [what, r] of [
      ['setRollout', mutation],
      ['rollback', rollbackDuringFreeze],
      ['slices (read)', read],
      ['slices with an unverified token', strangerRead],
    ] as const) {
      expect({ what, code: codeOf(r.value), withinBound: r.ms < bound }).toEqual({ what, code: 'SERVICE_UNAVAILABLE', withinBound: true });
      figures.push(`${what}: SERVICE_UNAVAILABLE after ${r.ms.toFixed(0)} ms (bound ${bound} ms)`);
    }
    expect(ready.value).toBe(503);
    expect(ready.ms).toBeLessThan(a.config.databaseConnectTimeoutMs + 500);
    figures.push(`readiness: 503 after ${ready.ms.toFixed(0)} ms`);
    expect(stream.ms).toBeLessThan(FROM_MEMORY_MS);
    figures.push(`a new SDK stream: its snapshot after ${stream.ms.toFixed(0)} ms`);

    // Long enough for the change feeds to find their connections frozen (a probe, unanswered).
    const feedNoticesWithin = a.config.changeFeedProbeMs + a.config.databaseStatementTimeoutMs + READ_GRACE_MS + 1_000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, feedNoticesWithin - (performance.now() - frozenAt))));
    polling = false;
    await poller;

    const statuses = new Set(delivery.map((d) => `${d.what}: ${d.status}`));
    expect([...statuses].sort()).toEqual(['snapshot A: 200', 'snapshot B 304: 304', 'unleash features A 304: 304', 'unleash features A: 200']);
    const slowest = Math.max(...delivery.map((d) => d.ms));
    expect(slowest).toBeLessThan(FROM_MEMORY_MS);
    figures.push(`delivery from memory during ${((performance.now() - frozenAt) / 1_000).toFixed(1)} s of freeze: ${delivery.length} requests, slowest ${slowest.toFixed(0)} ms`);
    // The SDKs' streams stayed up (heartbeats come from memory too).
    expect([sdkA.status().connected, sdkB.status().connected]).toEqual([true, true]);
  });

  it('after the thaw: the next rollback works at once and reaches the SDK streams of both instances; nothing was half written', async () => {
    proxy.thaw();
    const sent = performance.now();
    const res = await rollback(a, rolledBack);
    const answered = performance.now();
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ rollback: { key: rolledBack, state: 'ROLLED_BACK' } });
    const onA = waitFor(() => sdkA.decide(rolledBack, { userId: 'u-1' }) === 'LEGACY', 10_000, 'the rollback on instance A').then(() => performance.now());
    const onB = waitFor(() => sdkB.decide(rolledBack, { userId: 'u-1' }) === 'LEGACY', 10_000, 'the rollback on instance B').then(() => performance.now());
    const [landedA, landedB] = await Promise.all([onA, onB]);
    figures.push(`first rollback after the thaw: answered in ${(answered - sent).toFixed(0)} ms`);
    figures.push(`  reached an SDK stream on instance A (the one it went through) ${(landedA - answered).toFixed(0)} ms after its answer`);
    figures.push(`  reached an SDK stream on instance B (through its change feed) ${(landedB - answered).toFixed(0)} ms after its answer`);
    // At once: no frozen connection of the pool was handed to it.
    expect(answered - sent).toBeLessThan(a.config.databaseConnectTimeoutMs);
    expect(landedA - answered).toBeLessThan(1_000);
    // B's feed: its next reconnection attempt (an attempt begun while frozen times out first; retries back off to 2 s at most).
    expect(landedB - answered).toBeLessThan(a.config.databaseConnectTimeoutMs + 2_000 + 1_000);

    // The refused setRollout wrote nothing; history verifies.
    expect((await getSlice(a.admin, rolledOut)).percent).toBe(10);
    const verified = await a.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }');
    expect(verified.verifyHistory.ok).toBe(true);
  });

  it('frozen in the middle of a change, holding the change lock: refused within the bound, nothing written, the lock freed, the next rollback works', async () => {
    const key = uniqueKey('frozen.locked');
    await createSlice(a.admin, { key, percent: 10 });
    const frozen = proxy.freezeAfter('pg_advisory_xact_lock');
    const refusing = timed(() => setRollout(a, key, 42));
    await frozen;
    // The server took the lock for a session it can no longer hear from nor answer.
    await waitFor(async () => (await changeLockHolders()).length === 1, 2_000, 'the frozen session to hold the change lock');
    const refused = await refusing;
    expect(codeOf(refused.value)).toBe('SERVICE_UNAVAILABLE');
    expect(refused.ms).toBeLessThan(unavailableWithinMs(a.config));
    figures.push(`setRollout frozen while holding the change lock: SERVICE_UNAVAILABLE after ${refused.ms.toFixed(0)} ms`);
    proxy.thaw();

    // The server held that session's lock until idle_in_transaction_session_timeout ended it
    // (the statement timeout): by the time the service gave up on it, or soon after.
    const after = await timed(() => rollback(a, key));
    expect(after.value.errors).toBeUndefined();
    figures.push(`the rollback right after that thaw: answered in ${after.ms.toFixed(0)} ms`);
    expect(after.ms).toBeLessThan(a.config.databaseConnectTimeoutMs);

    // The server ended the frozen session itself; nothing of the refused change was written.
    expect(await changeLockHolders()).toEqual([]);
    const frozenSessions = await direct(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND query LIKE '%pg_advisory_xact_lock%'",
    );
    expect(frozenSessions).toEqual([]);
    const slice = await getSlice(a.admin, key);
    expect({ percent: slice.percent, state: slice.state }).toEqual({ percent: 10, state: 'ROLLED_BACK' });
    const rollouts = await direct<{ n: number }>("SELECT count(*)::int AS n FROM history WHERE slice_key = $1 AND action = 'ROLLOUT_SET'", [key]);
    expect(rollouts[0]!.n).toBe(0);
    expect((await a.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
  });
});
