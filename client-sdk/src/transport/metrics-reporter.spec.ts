/**
 * Usage reports of a real client against a real HTTP peer (testing/protocol-server.ts): what is
 * sent, when, and what happens when the service fails or refuses. The service side is tested in
 * test/e2e/traffic.e2e.spec.ts and sdk-traffic.e2e.spec.ts.
 */
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { ManualClock } from '../testing/manual-clock.js';
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
    reports().reduce((sum, r) => ({ NEW: sum.NEW + (r.bucket.slices[slice]?.NEW ?? 0), LEGACY: sum.LEGACY + (r.bucket.slices[slice]?.LEGACY ?? 0) }), { NEW: 0, LEGACY: 0 });

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
    expect(first).not.toHaveProperty('final'); // only close() sends the final one
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

  // On the injected clock from here on (random fixed at 0.5: a new revision is acknowledged 2.5 s
  // after it, the middle of the 5 s window): the schedule is checked exactly, without waiting.
  const metricsErrors = () => clients.errors.filter((e) => e.operation === 'metrics');
  /** Moves the clock by `ms` and checks that the report due then, and not before, goes out. */
  async function expectReportAfter(clock: ManualClock, ms: number): Promise<void> {
    // The reporter schedules the next report once the last one's answer is in: wait for that first.
    await waitFor(() => clock.pendingRequested().includes(ms), 2_000, `a report scheduled in ${ms} ms`);
    const before = server.requestsTo(METRICS).length;
    await clock.advance(ms - 1);
    expect(server.requestsTo(METRICS)).toHaveLength(before);
    await clock.advance(1);
    await waitFor(() => server.requestsTo(METRICS).length === before + 1, 2_000, `report ${before + 1}`);
  }

  it('keeps counting while the service fails, trying once per interval, and sends it all when it is back', async () => {
    server.metricsHandler = respondStatus(503);
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5 });
    for (let i = 0; i < 5; i++) client.decide('checkout', alice);
    // The acknowledgement of revision 1, then one attempt per interval, failing or not.
    await expectReportAfter(clock, 2_500);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(() => metricsErrors().length === attempt, 2_000, `failure ${attempt}`);
      if (attempt < 3) await expectReportAfter(clock, 60_000);
    }
    client.decide('checkout', bob);
    expect(clients.errors[0]).toMatchObject({ code: 'HTTP_ERROR', operation: 'metrics', httpStatus: 503 });
    expect(client.decide('checkout', alice)).toBe('NEW'); // decisions go on

    server.metricsHandler = null;
    await expectReportAfter(clock, 60_000);
    await waitFor(() => reported('checkout').NEW === 7, 2_000, 'everything, in one report');
    expect(reports().filter((r) => r.bucket.slices.checkout !== undefined)).toHaveLength(1);
  });

  it('drops counts the service refuses for good (400) instead of resending them forever', async () => {
    let refused = 0;
    server.metricsHandler = (request, response, peer) => {
      if (refused > 0) return false;
      refused++;
      return respondStatus(400, 'INVALID_INPUT')(request, response, peer);
    };
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5 });
    client.decide('checkout', alice);
    await expectReportAfter(clock, 2_500); // the acknowledgement of revision 1: refused
    await waitFor(() => metricsErrors().length === 1, 2_000, 'the refusal');
    client.decide('checkout', bob);
    await expectReportAfter(clock, 60_000);
    await waitFor(() => reports().length === 1, 2_000, 'the next report');
    await expectReportAfter(clock, 60_000);
    await waitFor(() => reports().length === 2, 2_000, 'the one after');
    // alice's decision went with the refused report and is not sent again; bob's went once.
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
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5 });
    client.decide('checkout', alice);
    await expectReportAfter(clock, 2_500);
    // The interval doubles after each 404: 2, 4, then 8 minutes until the attempt that succeeds.
    for (const [i, delay] of [120_000, 240_000, 480_000].entries()) {
      await waitFor(() => missing === i + 1, 2_000, `404 number ${i + 1}`);
      // A new revision is not acknowledged meanwhile: a service answering 404 would not record it.
      if (i === 0) {
        server.publish(snapshotAt(2, 0));
        await waitFor(() => client.status().revision === 2, 2_000, 'revision 2');
      }
      client.decide('checkout', alice);
      await expectReportAfter(clock, delay);
    }
    await waitFor(() => reports().length === 1, 2_000, 'a report once the endpoint exists');
    const errors = metricsErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'HTTP_ERROR', httpStatus: 404 });
    // Counts of refused reports are dropped (as for any 4xx); what came after is reported.
    expect(reported('checkout')).toEqual({ NEW: 0, LEGACY: 1 });
  });

  it('acknowledges a new revision within a few seconds, long before the interval, coalescing revisions that come together', async () => {
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5 });
    client.decide('checkout', alice);
    // Revision 2 arrives before revision 1 was acknowledged: the report already due covers both.
    server.publish(snapshotAt(2, 0));
    await waitFor(() => client.status().revision === 2, 2_000, 'revision 2');
    await expectReportAfter(clock, 2_500);
    await waitFor(() => reports().length === 1, 2_000, 'the acknowledgement');
    expect(reports()[0]).toMatchObject({ revision: 2 });

    server.publish(snapshotAt(3));
    await waitFor(() => client.status().revision === 3, 2_000, 'revision 3');
    await expectReportAfter(clock, 2_500);
    await waitFor(() => reports().length === 2, 2_000, 'its acknowledgement');
    expect(reports()[1]).toMatchObject({ revision: 3 });
    expect(reported('checkout')).toEqual({ NEW: 1, LEGACY: 0 });
    // Then the interval again, from the last report.
    await expectReportAfter(clock, 60_000);
  });

  it('sends a final report on close (final: true), and does not wait long for it', async () => {
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000, instanceId: 'closing' }, { clock });
    client.decide('checkout', alice);
    client.decide('checkout', bob);
    await client.close();
    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toMatchObject({ instanceId: 'closing', revision: 1, final: true, bucket: { slices: { checkout: { NEW: 2, LEGACY: 0 } } } });

    server.metricsHandler = () => true; // hangs
    const hung = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock });
    hung.decide('checkout', alice);
    const started = Date.now();
    await hung.close();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('sends the final report with nothing counted too (it says the instance is gone), after the regular ones', async () => {
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000, instanceId: 'idle' }, { clock, random: () => 0.5 });
    client.decide('checkout', alice);
    await clock.advance(2_500); // the acknowledgement of revision 1 carries the decision
    await waitFor(() => reports().length === 1, 2_000, 'the acknowledgement');
    await client.close();
    expect(reports().map((r) => [r.final, Object.keys(r.bucket.slices)])).toEqual([
      [undefined, ['checkout']],
      [true, []],
    ]);
    expect(reported('checkout')).toEqual({ NEW: 1, LEGACY: 0 });
  });

  it('sends no final report to a service without usage reports (404)', async () => {
    server.metricsHandler = respondStatus(404, 'NOT_FOUND');
    const clock = new ManualClock();
    const client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5 });
    await clock.advance(2_500);
    await waitFor(() => clients.errors.some((e) => e.operation === 'metrics'), 2_000, 'the 404');
    client.decide('checkout', alice);
    await client.close();
    expect(server.requestsTo(METRICS)).toHaveLength(1);
  });

  it('sends nothing with metrics: false, and leaves out keys that cannot be slices', async () => {
    const clock = new ManualClock();
    const silent = await clients.create(server.url, { metrics: false, metricsIntervalMs: 50 }, { clock });
    silent.decide('checkout', alice);
    await clock.advance(3_600_000);
    await silent.close();
    expect(server.requestsTo(METRICS)).toHaveLength(0);

    const client = await clients.create(server.url, { metricsIntervalMs: 50 }, { clock, random: () => 0.5 });
    client.decide('Checkout', alice);
    client.decide('checkout', alice);
    await clock.advance(50);
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
