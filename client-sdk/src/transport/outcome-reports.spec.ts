/**
 * Outcomes and comparisons in the usage reports (docs/outcomes.md, "The report"): deltas since the
 * last accepted report, merged across failed ones, dropped when refused for good, and the watched
 * slices reported every `watchedIntervalMs` on their own. A real client, a real HTTP peer, the
 * injected clock (random fixed at 0.5: the first revision is acknowledged 2.5 s after start).
 */
import type { SwitchyardClient } from '../client.js';
import { latencyBucketOf, type SnapshotDefinition } from '../core/index.js';
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { ManualClock } from '../testing/manual-clock.js';
import { METRICS, ProtocolServer, respondStatus } from '../testing/protocol-server.js';
import { waitFor } from '../testing/wait-for.js';
import type { MetricsReport } from './metrics-reporter.js';

const bob = { userId: 'bob' }; // LEGACY on search, NEW on checkout

function watchedCheckout(): SnapshotDefinition {
  const base = snapshotAt(1);
  return { ...base, slices: [{ ...base.slices[0]!, watched: true }, base.slices[1]!] };
}

describe('outcomes in usage reports', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  let clock: ManualClock;
  let t: number;
  let client: SwitchyardClient;
  const reports = () => server.reports as MetricsReport[];

  async function start(snapshot: SnapshotDefinition): Promise<void> {
    server = await ProtocolServer.start(snapshot);
    clock = new ManualClock();
    t = 0;
    client = await clients.create(server.url, { metricsIntervalMs: 60_000 }, { clock, random: () => 0.5, monotonic: () => t });
  }
  /** A call on `slice` lasting `ms`. */
  const call = (slice: string, ms: number) => client.route(slice, bob, { legacy: () => (t += ms), next: () => (t += ms) });
  /** Moves the clock to the timer of `ms` (once the reporter has set it) and waits for the report it sends. */
  async function reportAfter(ms: number): Promise<void> {
    await waitFor(() => clock.pendingDelays().includes(ms), 2_000, `a timer in ${ms} ms`);
    const before = server.requestsTo(METRICS).length;
    await clock.advance(ms);
    await waitFor(() => server.requestsTo(METRICS).length > before, 2_000, 'a report');
  }

  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  it('sends the outcomes since the last accepted report, keeps adding while the service fails, and sends the merged figures', async () => {
    await start(snapshotAt(1));
    server.metricsHandler = respondStatus(503);
    for (let i = 0; i < 3; i++) call('search', 1);
    await reportAfter(2_500); // the acknowledgement of revision 1: refused with 503, kept
    await waitFor(() => clients.errors.some((e) => e.operation === 'metrics'), 2_000, 'the failure');
    call('search', 100);
    call('search', 100);
    server.metricsHandler = null;
    await reportAfter(60_000);
    await waitFor(() => reports().length === 1, 2_000, 'the accepted report');
    expect(reports()[0]!.outcomes).toEqual({
      search: {
        LEGACY: {
          calls: 5,
          failures: 0,
          latency: {
            scheme: 'log2pct-v1',
            buckets: [
              [latencyBucketOf(1), 3],
              [latencyBucketOf(100), 2],
            ],
          },
        },
      },
    });
    // Accepted: the next report carries only what came after.
    call('search', 1);
    await reportAfter(60_000);
    await waitFor(() => reports().length === 2, 2_000, 'the next report');
    expect(reports()[1]!.outcomes!.search!.LEGACY!.calls).toBe(1);
  });

  it('drops outcomes and comparisons the service refuses for good (400)', async () => {
    await start(snapshotAt(1));
    server.metricsHandler = respondStatus(400, 'INVALID_INPUT');
    call('search', 1);
    call('search', 1);
    await reportAfter(2_500);
    await waitFor(() => clients.errors.some((e) => e.operation === 'metrics'), 2_000, 'the refusal');
    server.metricsHandler = null;
    call('search', 1);
    await reportAfter(60_000);
    await waitFor(() => reports().length === 1, 2_000, 'the next report');
    expect(reports()[0]!.outcomes!.search!.LEGACY!.calls).toBe(1);
  });

  it('sends the compact form once the service says it reads it, and the outcomes again in the usual form when an answer does not say so', async () => {
    await start(snapshotAt(1));
    server.readsCompactOutcomes = true;
    call('search', 1);
    await reportAfter(2_500); // nothing said yet: the usual form
    await waitFor(() => reports().length === 1, 2_000, 'the first report');
    expect(reports()[0]!.compactOutcomes).toBeUndefined();
    expect(reports()[0]!.outcomes!.search!.LEGACY!.calls).toBe(1);

    call('search', 1);
    call('search', 1);
    call('search', 100);
    server.readsCompactOutcomes = false; // the next answer comes from an older instance
    await reportAfter(60_000);
    await waitFor(() => reports().length === 2, 2_000, 'the compact report');
    const [b1, b100] = [latencyBucketOf(1), latencyBucketOf(100)];
    expect(reports()[1]!.outcomes).toBeUndefined();
    expect(reports()[1]!.compactOutcomes).toEqual({ format: 1, scheme: 'log2pct-v1', slices: [['search', 0, [0, b1, 2, -(b100 - b1 - 1), 1]]] });

    // That instance ignored them: they go again, with what came since, in the form every service reads;
    // the decisions it did take are not sent twice.
    call('search', 1);
    await reportAfter(60_000);
    await waitFor(() => reports().length === 3, 2_000, 'the report after');
    expect(reports()[2]!.compactOutcomes).toBeUndefined();
    expect(reports()[2]!.outcomes).toEqual({
      search: {
        LEGACY: {
          calls: 4,
          failures: 0,
          latency: {
            scheme: 'log2pct-v1',
            buckets: [
              [b1, 3],
              [b100, 1],
            ],
          },
        },
      },
    });
    expect(reports()[2]!.bucket.slices).toEqual({ search: { NEW: 0, LEGACY: 1 } });
  });

  it('reports the watched slices every watchedIntervalMs (2 s by default), alone, and only when something new happened on them', async () => {
    await start(watchedCheckout());
    call('checkout', 3);
    call('checkout', 3);
    call('search', 3);
    await reportAfter(2_000);
    const watched = reports()[0]!;
    expect(watched.bucket.slices).toEqual({ checkout: { NEW: 2, LEGACY: 0 } });
    expect(Object.keys(watched.outcomes!)).toEqual(['checkout']);
    expect(watched.outcomes!.checkout!.NEW!.calls).toBe(2);

    // The acknowledgement (a full report) carries the rest, not the watched slice again. Once the
    // watched report is answered (its next tick set), so that the clock does not move under it.
    await waitFor(() => clock.pendingDelays().includes(2_000), 2_000, 'the watched report answered');
    await reportAfter(500);
    await waitFor(() => reports().length === 2, 2_000, 'the full report');
    expect(reports()[1]!.bucket.slices).toEqual({ search: { NEW: 0, LEGACY: 1 } });
    expect(Object.keys(reports()[1]!.outcomes!)).toEqual(['search']);

    // Nothing new on the watched slice: no report at the next tick.
    await waitFor(() => clock.pendingDelays().includes(1_500), 2_000, 'the next watched tick');
    await clock.advance(1_500);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reports()).toHaveLength(2);

    call('checkout', 3);
    await reportAfter(2_000);
    await waitFor(() => reports().length === 3, 2_000, 'the second watched report');
    expect(reports()[2]!.bucket.slices).toEqual({ checkout: { NEW: 1, LEGACY: 0 } });
    expect(Date.parse(reports()[2]!.bucket.start)).toBe(Date.parse(reports()[1]!.bucket.stop));
  });
});
