/**
 * Usage reports of a real client against a real HTTP peer (testing/protocol-server.ts): what is
 * sent, when, and what happens when the service fails or refuses. The service side is tested in
 * test/e2e/traffic.e2e.spec.ts and sdk-traffic.e2e.spec.ts.
 */
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { METRICS, ProtocolServer, respondStatus } from '../testing/protocol-server.js';
import { waitFor } from '../testing/wait-for.js';
import { SDK_NAME, SDK_VERSION } from '../version.js';
import { defaultInstanceId, syncOf, type MetricsReport } from './metrics-reporter.js';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };

describe('usage reports', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  const reports = () => server.reports as MetricsReport[];
  /** Every count reported for a slice, summed over all reports so far. */
  const reported = (slice: string) =>
    reports().reduce(
      (sum, r) => ({ NEW: sum.NEW + (r.bucket.slices[slice]?.NEW ?? 0), LEGACY: sum.LEGACY + (r.bucket.slices[slice]?.LEGACY ?? 0) }),
      { NEW: 0, LEGACY: 0 },
    );

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshotAt(1));
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  it('sends the decisions counted since the last report, with the instance, SDK, revision and sync time', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 100, instanceId: 'pod-1' });
    for (let i = 0; i < 3; i++) client.decide('checkout', alice);
    client.decide('search', bob);
    client.decide('search', alice); // staff: NEW
    await waitFor(() => reported('checkout').NEW === 3 && reported('search').NEW + reported('search').LEGACY === 2, 3_000, 'the first counts');
    const first = reports().find((r) => r.bucket.slices.checkout !== undefined)!;
    expect(first).toMatchObject({ appName: 'sdk-test', instanceId: 'pod-1', sdkName: SDK_NAME, sdkVersion: SDK_VERSION, revision: 1 });
    expect(first.bucket.slices).toEqual({ checkout: { NEW: 3, LEGACY: 0 }, search: { NEW: 1, LEGACY: 1 } });
    expect(Date.now() - Date.parse(first.syncedAt!)).toBeLessThan(2_000);
    expect(Date.parse(first.bucket.start)).toBeLessThanOrEqual(Date.parse(first.bucket.stop));
    const request = server.requestsTo(METRICS)[0]!;
    expect(request.headers).toMatchObject({ authorization: 'Bearer sy_test_sdk_token', 'x-switchyard-app': 'sdk-test', 'content-type': 'application/json' });

    // Only what is new goes in the next report; consecutive buckets follow each other.
    client.decide('checkout', alice);
    await waitFor(() => reported('checkout').NEW === 4, 3_000, 'the second counts');
    const withCheckout = reports().filter((r) => r.bucket.slices.checkout !== undefined);
    expect(withCheckout.at(-1)!.bucket.slices).toEqual({ checkout: { NEW: 1, LEGACY: 0 } });
    for (let i = 1; i < reports().length; i++) expect(reports()[i]!.bucket.start).toBe(reports()[i - 1]!.bucket.stop);
    expect(clients.errors).toEqual([]);
  });

  it('keeps counting while the service fails, trying once per interval, and sends it all when it is back', async () => {
    server.metricsHandler = respondStatus(503);
    const client = await clients.create(server.url, { metricsIntervalMs: 150 });
    for (let i = 0; i < 5; i++) client.decide('checkout', alice);
    await waitFor(() => server.requestsTo(METRICS).length >= 3, 3_000, 'three attempts');
    client.decide('checkout', bob);
    const at = server.requestsTo(METRICS).map((r) => r.at);
    // The first may be the acknowledgement of revision 1 (jitter); after it, one attempt per interval.
    for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(140);
    expect(clients.errors[0]).toMatchObject({ code: 'HTTP_ERROR', operation: 'metrics', httpStatus: 503 });
    expect(client.decide('checkout', alice)).toBe('NEW'); // decisions go on

    server.metricsHandler = null;
    await waitFor(() => reported('checkout').NEW === 7, 3_000, 'everything, in one report');
    expect(reports().filter((r) => r.bucket.slices.checkout !== undefined)).toHaveLength(1);
  });

  it('drops counts the service refuses for good (400) instead of resending them forever', async () => {
    let refused = 0;
    server.metricsHandler = (request, response, peer) => {
      if (refused > 0) return false;
      refused++;
      return respondStatus(400, 'INVALID_INPUT')(request, response, peer);
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 100 });
    await waitFor(() => refused === 1, 3_000, 'the refusal'); // the acknowledgement of revision 1, or the first interval
    client.decide('checkout', alice);
    await waitFor(() => reported('checkout').NEW === 1, 3_000, 'the next report');
    await new Promise((r) => setTimeout(r, 250));
    expect(reported('checkout')).toEqual({ NEW: 1, LEGACY: 0 });
    expect(clients.errors[0]).toMatchObject({ code: 'HTTP_ERROR', operation: 'metrics', httpStatus: 400, serviceCode: 'INVALID_INPUT' });
  });

  it('backs off from a service without usage reports (404), says so once, and resumes when it has them', async () => {
    let missing = 0;
    server.metricsHandler = (request, response, peer) => {
      if (missing >= 3) return false;
      missing++;
      return respondStatus(404, 'NOT_FOUND')(request, response, peer);
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 60 });
    client.decide('checkout', alice);
    await waitFor(() => missing === 3, 5_000, 'three attempts answered 404');
    client.decide('checkout', alice);
    await waitFor(() => reported('checkout').NEW >= 1, 5_000, 'a report once the endpoint exists');
    const at = server.requestsTo(METRICS).map((r) => r.at);
    // The interval doubles after each 404: 120, 240, then 480 ms until the attempt that succeeds.
    expect([at[1]! - at[0]!, at[2]! - at[1]!, at[3]! - at[2]!].map((gap, i) => gap >= 0.9 * 60 * 2 ** (i + 1))).toEqual([true, true, true]);
    const metricsErrors = clients.errors.filter((e) => e.operation === 'metrics');
    expect(metricsErrors).toHaveLength(1);
    expect(metricsErrors[0]).toMatchObject({ code: 'HTTP_ERROR', httpStatus: 404 });
    // Counts of refused reports are dropped (as for any 4xx); what came after is reported.
    expect(reported('checkout').NEW).toBeLessThanOrEqual(2);
  });

  it('acknowledges a new revision within a few seconds, long before the interval', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 });
    client.decide('checkout', alice);
    server.publish(snapshotAt(2, 0));
    await waitFor(() => client.status().revision === 2, 2_000, 'revision 2');
    const published = Date.now();
    await waitFor(() => reports().some((r) => r.revision === 2), 6_000, 'the acknowledgement');
    expect(Date.now() - published).toBeLessThan(5_500);
    // Coalesced: one report for revisions 1 and 2 arriving together, or one each; never a burst.
    expect(reports().length).toBeLessThanOrEqual(2);
    expect(reported('checkout')).toEqual({ NEW: 1, LEGACY: 0 });
  });

  it('sends a last report on close, and does not wait long for it', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000, instanceId: 'closing' });
    client.decide('checkout', alice);
    client.decide('checkout', bob);
    await client.close();
    expect(reported('checkout')).toEqual({ NEW: 2, LEGACY: 0 });

    server.metricsHandler = () => true; // hangs
    const hung = await clients.create(server.url, { metricsIntervalMs: 60_000 });
    hung.decide('checkout', alice);
    const started = Date.now();
    await hung.close();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('sends nothing with metrics: false, and leaves out keys that cannot be slices', async () => {
    const silent = await clients.create(server.url, { metrics: false, metricsIntervalMs: 50 });
    silent.decide('checkout', alice);
    await new Promise((r) => setTimeout(r, 200));
    await silent.close();
    expect(server.requestsTo(METRICS)).toHaveLength(0);

    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    client.decide('Checkout', alice);
    client.decide('checkout', alice);
    await waitFor(() => reported('checkout').NEW === 1, 3_000, 'a report');
    expect(reports().every((r) => !('Checkout' in r.bucket.slices))).toBe(true);
    expect(clients.errors).toEqual([]);
  });

  it('refuses invalid options at creation', async () => {
    await expect(clients.create(server.url, { metricsIntervalMs: 0 })).rejects.toThrow(TypeError);
    await expect(clients.create(server.url, { instanceId: '' })).rejects.toThrow(/instanceId/);
    await expect(clients.create(server.url, { instanceId: 'pod\u00e9' })).rejects.toThrow(/instanceId/);
    await expect(clients.create(server.url, { metrics: 'yes' as unknown as boolean })).rejects.toThrow(/metrics/);
  });
});

describe('syncOf and defaultInstanceId', () => {
  it('says when the client last held the service’s current configuration', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const stale = new Date('2026-01-01T11:00:00Z');
    expect(syncOf({ revision: 7, source: 'service', connected: true, staleSince: null }, now)).toEqual({ revision: 7, syncedAt: now });
    expect(syncOf({ revision: 7, source: 'service', connected: false, staleSince: stale }, now)).toEqual({ revision: 7, syncedAt: stale });
    expect(syncOf({ revision: 3, source: 'bootstrap', connected: false, staleSince: stale }, now)).toEqual({ revision: 3, syncedAt: null });
    expect(syncOf({ revision: null, source: 'none', connected: false, staleSince: null }, now)).toEqual({ revision: null, syncedAt: null });
  });

  it('names an instance by host, process and a random suffix', () => {
    const id = defaultInstanceId();
    expect(id).toMatch(new RegExp(`^[\\x21-\\x7e]+-${process.pid}-[0-9a-f]{6}$`));
    expect(defaultInstanceId()).not.toBe(id);
  });
});
